package kafka

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// cutProxy forwards connections to a server, and cuts each of the first
// cuts connections once it has forwarded cutAfter bytes of responses, so
// that the answers to requests in flight are lost and the client retries
// them on a new connection.
type cutProxy struct {
	ln       net.Listener
	target   string
	cutAfter int64
	cuts     atomic.Int32 // connections left to cut
	cut      atomic.Int32 // connections cut
	wg       sync.WaitGroup
}

func newCutProxy(t *testing.T, cuts int32, cutAfter int64) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, cutAfter: cutAfter}
	p.cuts.Store(cuts)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	p.wg.Go(func() {
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
}

func (p *cutProxy) forward(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	p.wg.Go(func() { io.Copy(s, c); s.Close() }) // ends when either side closes
	if p.cuts.Add(-1) < 0 {
		io.Copy(c, s)
		return
	}
	io.CopyN(c, s, p.cutAfter)
	p.cut.Add(1)
}

// TestKafkaIdempotentPipelinedRetries produces through connections that
// are cut while produce requests are in flight (kgo keeps up to five per
// broker), so that kgo retries batches that were stored, or are still
// being stored, on a new connection: every record is stored once, in the
// order produced.
func TestKafkaIdempotentPipelinedRetries(t *testing.T) {
	p := newCutProxy(t, 6, 1200)
	e := startEnv(t, Options{AdvertisedAddr: p.ln.Addr().String()})
	p.target = e.addr
	p.serve()
	e.createStream(t, "retry", 1)
	ctx := testCtx(t)
	prod, err := kgo.NewClient(kgo.SeedBrokers(p.ln.Addr().String()), kgo.DefaultProduceTopic("retry"),
		kgo.ProducerLinger(0), kgo.ProducerBatchMaxBytes(1024), kgo.RecordRetries(100))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const n = 3000
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		prod.Produce(ctx, &kgo.Record{Value: fmt.Appendf(nil, "v%d-%040d", i, i)}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("record %d: %v", i, err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	if p.cut.Load() == 0 {
		t.Fatal("no connection was cut: nothing was retried")
	}
	recs := consume(t, ctx, e.client(t, kgo.ConsumeTopics("retry"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())), n)
	for i, r := range recs {
		if want := fmt.Sprintf("v%d-%040d", i, i); string(r.Value) != want || r.Offset != int64(i) {
			t.Fatalf("offset %d: %q at %d, want %q", i, r.Value, r.Offset, want)
		}
	}
	if in, _ := e.srv.StreamInfo("retry"); in.Partitions[0].HighWatermark != n {
		t.Fatalf("hw %d: records stored twice", in.Partitions[0].HighWatermark)
	}
	t.Logf("%d connections cut", p.cut.Load())
}
