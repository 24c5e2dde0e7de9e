package kafka

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaConnsCounted checks that Conns follows connections opening and
// closing.
func TestKafkaConnsCounted(t *testing.T) {
	e := startEnv(t, Options{})
	if n := e.k.Conns(); n != 0 {
		t.Fatalf("before any client: %d connections", n)
	}
	a, b := e.dial(t), e.dial(t)
	for i, c := range []*rawConn{a, b} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 3
		c.Write(frame(int32(i), req))
		if _, _, err := c.read(); err != nil { // answered: registered
			t.Fatal(err)
		}
	}
	if n := e.k.Conns(); n != 2 {
		t.Fatalf("two clients: %d connections", n)
	}
	a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for e.k.Conns() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("after one closed: %d connections", e.k.Conns())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestKafkaStatsCountProduceAndFetch checks the broker's stream counters
// after a kgo producer and consumer: records in by batch header, and the
// stored batches read back by fetches.
func TestKafkaStatsCountProduceAndFetch(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "metered", 1)
	ctx := testCtx(t)
	prod := e.client(t, kgo.DefaultProduceTopic("metered"))
	var recs []*kgo.Record
	for i := range 5 {
		recs = append(recs, &kgo.Record{Value: fmt.Appendf(nil, "value-%d", i)})
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cons := e.client(t, kgo.ConsumeTopics("metered"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	consume(t, ctx, cons, 5)
	st, err := e.srv.Stats()
	if err != nil {
		t.Fatal(err)
	}
	s := st.Streams[0]
	if s.Name != "metered" || s.MessagesIn != 5 || s.MessagesOut != 5 || s.BytesIn == 0 || s.BytesOut != s.BytesIn || s.Bytes != s.BytesIn {
		t.Fatalf("stream stats %+v", s)
	}
}
