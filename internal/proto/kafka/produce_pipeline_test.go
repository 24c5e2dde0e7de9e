package kafka

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/courier-mq/courier/internal/broker"
	clog "github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produceReq is an acks=all Produce (v9) of one batch to partition 0.
func produceReq(topic string, b []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 9, -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// idemBatch is batch(values...) from an idempotent producer.
func idemBatch(id int64, epoch int16, seq int32, values ...string) []byte {
	b := batch(values...)
	binary.BigEndian.PutUint64(b[clog.OffProducerID:], uint64(id))
	binary.BigEndian.PutUint16(b[clog.OffProducerEpoch:], uint16(epoch))
	binary.BigEndian.PutUint32(b[clog.OffBaseSequence:], uint32(seq))
	binary.BigEndian.PutUint32(b[clog.OffCRC:], crc32.Checksum(b[clog.OffAttributes:], castagnoli))
	return b
}

// readProduce reads the next response and checks its correlation id.
func (c *rawConn) readProduce(corr int32) kmsg.ProduceResponseTopicPartition {
	c.t.Helper()
	got, body, err := c.read()
	if err != nil || got != corr {
		c.t.Fatalf("response %d: corr %d, %v", corr, got, err)
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 9
	if err := resp.ReadFrom(body[1:]); err != nil { // v9 is flexible: header tags
		c.t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0]
}

// TestKafkaProducePipelined writes many Produce requests at once, plain
// and idempotent, with a duplicate of a batch still in flight and a gap:
// the answers come in request order, with increasing offsets, the
// duplicate with its original's offset, and nothing is stored twice.
func TestKafkaProducePipelined(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "pipe", 1)
	ip, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(testCtx(t), e.client(t))
	if err != nil || ip.ErrorCode != 0 {
		t.Fatalf("init: %v %+v", err, ip)
	}
	var wire []byte
	const plain, idem = 20, 20
	for i := range int32(plain) {
		wire = append(wire, frame(i, produceReq("pipe", batch("a", "b", "c")))...)
	}
	for i := range int32(idem) {
		b := idemBatch(ip.ProducerID, ip.ProducerEpoch, 2*i, "x", "y")
		wire = append(wire, frame(plain+i, produceReq("pipe", b))...)
	}
	dup := idemBatch(ip.ProducerID, ip.ProducerEpoch, 2*(idem-1), "x", "y") // the last one, again
	gap := idemBatch(ip.ProducerID, ip.ProducerEpoch, 2*idem+4, "x", "y")
	wire = append(wire, frame(plain+idem, produceReq("pipe", dup))...)
	wire = append(wire, frame(plain+idem+1, produceReq("pipe", gap))...)
	c := e.dial(t)
	if _, err := c.Write(wire); err != nil {
		t.Fatal(err)
	}
	want := int64(0)
	for i := range int32(plain + idem) {
		p := c.readProduce(i)
		if p.ErrorCode != 0 || p.BaseOffset != want {
			t.Fatalf("request %d: code %d, offset %d, want offset %d", i, p.ErrorCode, p.BaseOffset, want)
		}
		want += map[bool]int64{true: 3, false: 2}[i < plain]
	}
	if p := c.readProduce(plain + idem); p.ErrorCode != 0 || p.BaseOffset != want-2 {
		t.Fatalf("duplicate: code %d, offset %d, want %d", p.ErrorCode, p.BaseOffset, want-2)
	}
	if p := c.readProduce(plain + idem + 1); p.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap: code %d", p.ErrorCode)
	}
	if in, _ := e.srv.StreamInfo("pipe"); in.Partitions[0].HighWatermark != want {
		t.Fatalf("hw %d, want %d", in.Partitions[0].HighWatermark, want)
	}
}

// countingBackend counts the batches given their offsets.
type countingBackend struct {
	*broker.Broker
	appended chan struct{}
}

func (b *countingBackend) AppendBatchAsync(stream string, part int, batch []byte) (int64, func(context.Context) error, error) {
	off, wait, err := b.Broker.AppendBatchAsync(stream, part, batch)
	b.appended <- struct{}{}
	return off, wait, err
}

// stallEnv is a Kafka server over a broker whose fsyncs, once armed,
// stall until released and then fail.
type stallEnv struct {
	*testEnv
	be      *countingBackend
	armed   atomic.Bool
	entered chan struct{} // closed when an armed fsync starts
	release chan struct{} // close to fail the stalled fsyncs
}

func startStallEnv(t *testing.T, topic string) *stallEnv {
	t.Helper()
	e := &stallEnv{entered: make(chan struct{}), release: make(chan struct{})}
	var once sync.Once
	fs := vfs.NewFaulty(vfs.Disk, vfs.InjectorFunc(func(op vfs.Op, _ string) error {
		if op != vfs.OpSync || !e.armed.Load() {
			return nil
		}
		once.Do(func() { close(e.entered) })
		<-e.release
		return vfs.ErrInjected
	}))
	b, err := broker.Open(broker.Options{Dir: t.TempDir(), FS: fs, Meta: broker.NewMemKV()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateStream(broker.StreamConfig{Name: topic, Subjects: topicSubjects(topic), Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	e.be = &countingBackend{Broker: b, appended: make(chan struct{}, 16)}
	k := New(e.be, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- k.Serve(ln) }()
	t.Cleanup(func() {
		k.Close()
		<-served
		b.Close()
	})
	e.testEnv = &testEnv{k: k, addr: ln.Addr().String()}
	return e
}

// TestKafkaProduceFailedWrite fails the fsync under several pipelined
// Produce requests that all have their offsets: each is answered, in
// order, with KAFKA_STORAGE_ERROR; nothing hangs.
func TestKafkaProduceFailedWrite(t *testing.T) {
	e := startStallEnv(t, "fw")
	e.armed.Store(true)
	const n = 6
	var wire []byte
	for i := range int32(n) {
		wire = append(wire, frame(i, produceReq("fw", batch("v")))...)
	}
	c := e.dial(t)
	if _, err := c.Write(wire); err != nil {
		t.Fatal(err)
	}
	<-e.entered // the first batch's fsync has begun
	for range n {
		<-e.be.appended // every request has its offsets
	}
	close(e.release)
	for i := range int32(n) {
		if p := c.readProduce(i); p.ErrorCode != kerr.KafkaStorageError.Code {
			t.Fatalf("request %d: code %v", i, kerr.ErrorForCode(p.ErrorCode))
		}
	}
	// The log refuses appends from now on; a new request says so at once.
	c.Write(frame(n, produceReq("fw", batch("v"))))
	<-e.be.appended
	if p := c.readProduce(n); p.ErrorCode != kerr.KafkaStorageError.Code {
		t.Fatalf("after the failure: code %v", kerr.ErrorForCode(p.ErrorCode))
	}
}

// TestKafkaIdempotentDuplicateWaitsForOriginal retries, on a second
// connection, an idempotent batch whose write is still in flight: the
// duplicate is answered with the original's outcome once it is known
// (here the write fails, so the duplicate fails too, rather than being
// acknowledged with an offset that was never stored).
func TestKafkaIdempotentDuplicateWaitsForOriginal(t *testing.T) {
	e := startStallEnv(t, "dw")
	a, b := e.dial(t), e.dial(t)
	ip := a.roundTrip(1, kmsg.NewPtrInitProducerIDRequest()).(*kmsg.InitProducerIDResponse)
	e.armed.Store(true)
	orig := idemBatch(ip.ProducerID, ip.ProducerEpoch, 0, "x", "y")
	a.Write(frame(2, produceReq("dw", orig)))
	<-e.entered
	<-e.be.appended
	// The duplicate, then the producer's next batch: once that one has
	// its offsets, the duplicate has been checked.
	b.Write(append(frame(3, produceReq("dw", orig)), frame(4, produceReq("dw", idemBatch(ip.ProducerID, ip.ProducerEpoch, 2, "z")))...))
	<-e.be.appended
	close(e.release)
	if p := a.readProduce(2); p.ErrorCode != kerr.KafkaStorageError.Code {
		t.Fatalf("original: code %v", kerr.ErrorForCode(p.ErrorCode))
	}
	if p := b.readProduce(3); p.ErrorCode != kerr.KafkaStorageError.Code {
		t.Fatalf("duplicate: code %v, offset %d", kerr.ErrorForCode(p.ErrorCode), p.BaseOffset)
	}
	if p := b.readProduce(4); p.ErrorCode != kerr.KafkaStorageError.Code {
		t.Fatalf("next batch: code %v", kerr.ErrorForCode(p.ErrorCode))
	}
}

// TestKafkaProducerForget undoes the record of a batch whose write
// failed, and of those recorded after it: its retry is accepted, the
// earlier batch is still a duplicate, a later one is out of order.
func TestKafkaProducerForget(t *testing.T) {
	st := &producerState{fresh: true}
	st.record(0, 0, 2, 10, nil)
	failed := st.record(0, 2, 2, 12, nil)
	st.record(0, 4, 2, 14, nil)
	st.forget(failed)
	if dup, code := st.check(0, 0, 2); code != 0 || dup == nil || dup.offset != 10 {
		t.Fatalf("earlier batch: dup %+v code %d", dup, code)
	}
	if dup, code := st.check(0, 2, 2); code != 0 || dup != nil {
		t.Fatalf("retry of the failed batch: dup %+v code %d", dup, code)
	}
	if _, code := st.check(0, 4, 2); code != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("later batch: code %d", code)
	}
	st.forget(failed) // a second failure report changes nothing
	if st.next != 2 || st.nrecent != 1 {
		t.Fatalf("state after a second forget: next %d, %d recent", st.next, st.nrecent)
	}
}
