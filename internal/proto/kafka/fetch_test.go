package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func fetchReq(topic string, offset int64, maxWait, minBytes int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = maxWait, minBytes, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// TestKafkaFetchLongPoll checks that a fetch waiting at the high
// watermark answers with the record produced meanwhile: the answer comes
// after the produce and holds it, long before MaxWait.
func TestKafkaFetchLongPoll(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "lp", 1)
	ctx := testCtx(t)
	cl := e.client(t, kgo.DefaultProduceTopic("lp"), kgo.DisableIdempotentWrite())
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("first")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	parked := parkedFetches(e)
	events := make(chan string, 3)
	result := make(chan *kmsg.FetchResponse, 1)
	go func() {
		resp, err := fetchReq("lp", 1, 60_000, 1).RequestWith(ctx, cl)
		if err != nil {
			t.Error(err)
		}
		events <- "fetched"
		result <- resp
	}()
	waitParked(t, parked)
	events <- "producing"
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("second")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if a, b := <-events, <-events; a != "producing" || b != "fetched" {
		t.Fatalf("events %s, %s", a, b)
	}
	resp := <-result
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.HighWatermark != 2 || len(p.RecordBatches) == 0 {
		t.Fatalf("partition %+v", p)
	}
}

// parkedFetches returns a channel that gets a value each time a fetch
// starts to wait for data.
func parkedFetches(e *testEnv) <-chan struct{} {
	ch := make(chan struct{}, 16)
	hook := func() { ch <- struct{}{} }
	e.k.onFetchWait.Store(&hook)
	return ch
}

func waitParked(t *testing.T, parked <-chan struct{}) {
	t.Helper()
	select {
	case <-parked:
	case <-time.After(3 * time.Second):
		t.Fatal("no fetch parked")
	}
}

func TestKafkaFetchMaxWaitExpires(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "idle", 1)
	cl := e.client(t)
	resp, err := fetchReq("idle", 0, 100, 1).RequestWith(testCtx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(p.RecordBatches) != 0 || p.HighWatermark != 0 {
		t.Fatalf("partition %+v", p)
	}
}

func TestKafkaFetchErrors(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "fe", 1)
	cl := e.client(t)
	ctx := testCtx(t)
	for _, tc := range []struct {
		topic  string
		offset int64
		code   int16
	}{
		{"fe", 5, kerr.OffsetOutOfRange.Code},
		{"fe", -1, kerr.OffsetOutOfRange.Code},
		{"missing", 0, kerr.UnknownTopicOrPartition.Code},
		{"with.dot", 0, kerr.UnknownTopicOrPartition.Code},
	} {
		resp, err := fetchReq(tc.topic, tc.offset, 10_000, 1).RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Topics[0].Partitions[0].ErrorCode; got != tc.code {
			t.Errorf("%s@%d: code %d, want %d", tc.topic, tc.offset, got, tc.code)
		}
	}
	// A fetch session is not known.
	req := fetchReq("fe", 0, 0, 0)
	req.SessionID, req.SessionEpoch = 42, 1
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.FetchSessionIDNotFound.Code || resp.SessionID != 0 {
		t.Fatalf("session answer %d/%d", resp.ErrorCode, resp.SessionID)
	}
}

// TestKafkaFetchMaxBytes checks the per-partition and response limits: the
// first batch is whole even when larger; the next partitions wait for a
// later fetch.
func TestKafkaFetchMaxBytes(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "mb", 2)
	ctx := testCtx(t)
	cl := e.client(t, kgo.DisableIdempotentWrite(), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	big := make([]byte, 4000)
	for part := range int32(2) {
		for range 3 {
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mb", Partition: part, Value: big}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	req := fetchReq("mb", 0, 0, 1)
	rp := req.Topics[0].Partitions[0]
	rp.PartitionMaxBytes = 100
	rp2 := rp
	rp2.Partition = 1
	req.Topics[0].Partitions = []kmsg.FetchRequestTopicPartition{rp, rp2}
	req.MaxBytes = 100
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	p0, p1 := resp.Topics[0].Partitions[0], resp.Topics[0].Partitions[1]
	if n := len(p0.RecordBatches); n < 4000 || n > 5000 {
		t.Fatalf("partition 0: %d bytes, want one whole batch", n)
	}
	if len(p1.RecordBatches) != 0 || p1.HighWatermark != 3 {
		t.Fatalf("partition 1: %d bytes, hw %d", len(p1.RecordBatches), p1.HighWatermark)
	}
}

// TestKafkaFetchCloseEndsLongPoll checks that closing the server ends a
// parked fetch at once.
func TestKafkaFetchCloseEndsLongPoll(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "cl", 1)
	parked := parkedFetches(e)
	cl := e.client(t, kgo.RequestRetries(0))
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		fetchReq("cl", 0, 60_000, 1).RequestWith(ctx, cl)
	}()
	waitParked(t, parked)
	e.k.Close()
	<-done
}

// TestKafkaShutdownAnswersLongPoll checks that Shutdown answers a parked
// fetch (empty) instead of waiting for its MaxWait, then closes.
func TestKafkaShutdownAnswersLongPoll(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "sd", 1)
	parked := parkedFetches(e)
	c := e.dial(t)
	req := fetchReq("sd", 0, 60_000, 1)
	req.Version = 4
	c.Write(frame(5, req))
	waitParked(t, parked)
	if err := e.k.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	corr, body, err := c.read()
	if err != nil || corr != 5 {
		t.Fatalf("answer: corr %d, %v", corr, err)
	}
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = 4
	if err := resp.ReadFrom(body); err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("fetch answer %v %+v", err, resp)
	}
	c.expectClosed()
}
