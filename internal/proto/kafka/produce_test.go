package kafka

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafkaProduceConsumeAcks(t *testing.T) {
	e := startEnv(t, Options{})
	for _, tc := range []struct {
		name string
		acks kgo.Acks
		idem bool
	}{{"none", kgo.NoAck(), false}, {"leader", kgo.LeaderAck(), false}, {"all", kgo.AllISRAcks(), true}} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "acks-" + tc.name
			e.createStream(t, topic, 2)
			opts := []kgo.Opt{kgo.RequiredAcks(tc.acks), kgo.DefaultProduceTopic(topic)}
			if !tc.idem {
				opts = append(opts, kgo.DisableIdempotentWrite())
			}
			ctx := testCtx(t)
			p := e.client(t, opts...)
			const n = 50
			for i := range n {
				r := &kgo.Record{Key: fmt.Appendf(nil, "k%d", i%5), Value: fmt.Appendf(nil, "v%d", i)}
				p.Produce(ctx, r, func(_ *kgo.Record, err error) {
					if err != nil {
						t.Errorf("produce: %v", err)
					}
				})
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			c := e.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			recs := consume(t, ctx, c, n)
			checkPerKeyOrder(t, recs, n)
		})
	}
}

// checkPerKeyOrder checks that every value arrived once and in order per key.
func checkPerKeyOrder(t *testing.T, recs []*kgo.Record, n int) {
	t.Helper()
	seen := map[string]bool{}
	last := map[string]int{}
	for _, r := range recs {
		var i int
		fmt.Sscanf(string(r.Value), "v%d", &i)
		if seen[string(r.Value)] {
			t.Fatalf("duplicate %s", r.Value)
		}
		seen[string(r.Value)] = true
		if prev, ok := last[string(r.Key)]; ok && prev > i {
			t.Fatalf("key %s: %d after %d", r.Key, i, prev)
		}
		last[string(r.Key)] = i
	}
	if len(seen) != n {
		t.Fatalf("got %d distinct records, want %d", len(seen), n)
	}
}

func TestKafkaProduceCompression(t *testing.T) {
	e := startEnv(t, Options{})
	for _, codec := range []struct {
		name string
		c    kgo.CompressionCodec
	}{{"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()}, {"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()}} {
		t.Run(codec.name, func(t *testing.T) {
			topic := "codec-" + codec.name
			e.createStream(t, topic, 1)
			ctx := testCtx(t)
			p := e.client(t, kgo.ProducerBatchCompression(codec.c), kgo.DefaultProduceTopic(topic))
			var rs []*kgo.Record
			for i := range 20 {
				rs = append(rs, &kgo.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "v%d-%s", i, "some repeated text some repeated text")})
			}
			if err := p.ProduceSync(ctx, rs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			c := e.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			got := consume(t, ctx, c, 20)
			for i, r := range got {
				if want := rs[i].Value; string(r.Value) != string(want) || r.Offset != int64(i) {
					t.Fatalf("record %d: %q at %d, want %q at %d", i, r.Value, r.Offset, want, i)
				}
			}
		})
	}
}

func TestKafkaProduceUnknownTopic(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	p := e.client(t, kgo.DefaultProduceTopic("nope"), kgo.RecordRetries(2), kgo.UnknownTopicRetries(1))
	err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr()
	if err == nil {
		t.Fatal("produce to an unknown topic succeeded")
	}
}

func TestKafkaAutoCreateTopics(t *testing.T) {
	e := startEnv(t, Options{AutoCreateTopics: true})
	ctx := testCtx(t)
	p := e.client(t, kgo.DefaultProduceTopic("auto"), kgo.AllowAutoTopicCreation())
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	in, err := e.srv.StreamInfo("auto")
	if err != nil {
		t.Fatal(err)
	}
	if in.Partitions[0].HighWatermark != 1 {
		t.Fatalf("hw %d", in.Partitions[0].HighWatermark)
	}
}
