package kafka

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"

	clog "github.com/courier-mq/courier/internal/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaIdempotentRetryAfterStateLoss drops the producers' in-memory
// state (what a restart does) and retries a batch: the state is rebuilt
// from the log, so the retry is answered with the stored offset and not
// stored again, and the next sequence is still enforced.
func TestKafkaIdempotentRetryAfterStateLoss(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "idem", 1)
	cl := e.client(t)
	ctx := testCtx(t)
	produce := idempotentProducer(t, ctx, cl, "idem")
	produce(0)
	produce(2)
	e.k.prod = newProducers() // the state a restart loses
	if p := produce(2); p.ErrorCode != 0 || p.BaseOffset != 2 {
		t.Fatalf("retry after state loss: %+v", p)
	}
	if p := produce(9); p.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap after rebuild: %+v", p)
	}
	if in, _ := e.srv.StreamInfo("idem"); in.Partitions[0].HighWatermark != 4 {
		t.Fatalf("hw %d: the retry was stored again", in.Partitions[0].HighWatermark)
	}
}

// idempotentProducer initialises a producer ID and returns a function that
// sends a two-record batch with a given base sequence to partition 0 of
// topic, as an idempotent producer (or its retry) would.
func idempotentProducer(t *testing.T, ctx context.Context, cl *kgo.Client, topic string) func(seq int32) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	ip, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || ip.ErrorCode != 0 {
		t.Fatalf("init: %v %+v", err, ip)
	}
	return func(seq int32) kmsg.ProduceResponseTopicPartition {
		b := batch("x", "y")
		binary.BigEndian.PutUint64(b[clog.OffProducerID:], uint64(ip.ProducerID))
		binary.BigEndian.PutUint16(b[clog.OffProducerEpoch:], uint16(ip.ProducerEpoch))
		binary.BigEndian.PutUint32(b[clog.OffBaseSequence:], uint32(seq))
		binary.BigEndian.PutUint32(b[clog.OffCRC:], crc32.Checksum(b[clog.OffAttributes:], castagnoli))
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = b
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0]
	}
}
