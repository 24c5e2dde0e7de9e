package broker

import (
	"context"
	"errors"
	"testing"

	"github.com/courier-mq/courier/internal/log"
)

func TestOffsetsRawBatchesCrossToSubscribers(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "orders", Subjects: []string{"orders", "orders.>"}, Partitions: 2})
	batch := log.EncodeBatch(nil, []log.Record{{Key: []byte("k"), Value: []byte("from-kafka"),
		Headers: []log.Header{{Key: "h", Value: []byte("v")}}}}, 1000)
	ctx := context.Background()
	off, err := e.b.AppendBatch(ctx, "orders", 1, batch)
	if err != nil || off != 0 {
		t.Fatalf("append batch: %d %v", off, err)
	}
	if _, err := e.b.AppendBatch(ctx, "orders", 1, batch[:30]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad batch: %v", err)
	}
	if _, err := e.b.AppendBatch(ctx, "orders", 9, batch); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad partition: %v", err)
	}
	sub, _ := e.b.Subscribe("orders", Start{Kind: StartEarliest}, 0)
	defer sub.Close()
	m := recv(t, sub)
	if string(m.Payload) != "from-kafka" || m.Subject != "orders" || m.Partition != 1 || string(m.Key) != "k" {
		t.Fatalf("%+v", m)
	}
	if v, _ := m.Header("h"); v != "v" {
		t.Fatalf("header %q", v)
	}
	e.pub("orders.eu", "native", withKey("x"))
	start, hw, err := e.b.PartitionOffsets("orders", 1)
	if err != nil || start != 0 || hw < 1 {
		t.Fatalf("offsets %d %d %v", start, hw, err)
	}
	c, err := e.b.ReadPartition("orders", 1, nil, 0, 1<<20)
	if err != nil || len(c.Data) == 0 {
		t.Fatalf("read: %v", err)
	}
	if ts, err := e.b.OffsetForTime("orders", 1, 0); err != nil || ts != 0 {
		t.Fatalf("offset for time %d %v", ts, err)
	}
	if err := e.b.WaitPartition(ctx, "orders", 1, 0); err != nil {
		t.Fatal(err)
	}
}

func TestOffsetsRawBatchSubjectsAndErrorClasses(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "t", Subjects: []string{"t", "t.>"}})
	ctx := context.Background()
	e.pub("t", "native")
	raw := log.EncodeBatch(nil, []log.Record{{Value: []byte("a")}, {Value: []byte("b"),
		Headers: []log.Header{{Key: HdrSubject, Value: []byte("t.eu")}}}}, 1000)
	if off, err := e.b.AppendBatch(ctx, "t", 0, raw); err != nil || off != 1 {
		t.Fatalf("append: %d %v", off, err)
	}
	for subj, last := range map[string]int64{"t": 1, "t.eu": 2} {
		if _, err := e.b.Publish(ctx, &Message{Subject: subj}, Expect{LastSubjectOffset: &last}); err != nil {
			t.Fatalf("%s after a raw batch: %v", subj, err)
		}
	}
	foreign := log.EncodeBatch(nil, []log.Record{{Headers: []log.Header{{Key: HdrSubject, Value: []byte("other")}}}}, 1000)
	if _, err := e.b.AppendBatch(ctx, "t", 0, foreign); !errors.Is(err, ErrInvalid) {
		t.Fatalf("subject of another stream: %v", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	// A cancelled append may still be stored; it must not read as bad input.
	if _, err := e.b.AppendBatch(done, "t", 0, raw); errors.Is(err, ErrInvalid) {
		t.Fatalf("a cancelled context reported as invalid input: %v", err)
	}
	if _, err := e.b.ReadPartition("t", 0, nil, 99, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past the end: %v", err)
	}
}
