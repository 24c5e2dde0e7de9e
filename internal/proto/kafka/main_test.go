package kafka

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/servertest"
	"github.com/courier-mq/courier/server"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// sarama's metrics library starts a process-wide meter goroutine.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/rcrowley/go-metrics.(*meterArbiter).tick"))
}

// testEnv is an in-process Courier server with a Kafka listener.
type testEnv struct {
	srv  *server.Server
	k    *Server
	addr string
}

func startEnv(t *testing.T, o Options) *testEnv {
	t.Helper()
	srv := servertest.Start(t, t.TempDir())
	k := New(srv, o)
	addr, _ := servertest.Serve(t, srv, k, ErrServerClosed)
	return &testEnv{srv: srv, k: k, addr: addr}
}

// client returns a kgo client for the env, closed at cleanup.
func (e *testEnv) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{kgo.SeedBrokers(e.addr), kgo.MetadataMinAge(50 * time.Millisecond),
		kgo.RetryTimeout(3 * time.Second), kgo.FetchMaxWait(500 * time.Millisecond)}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (e *testEnv) createStream(t *testing.T, name string, parts int) {
	t.Helper()
	if _, err := e.srv.CreateStream(server.StreamConfig{Name: name, Subjects: topicSubjects(name), Partitions: parts}); err != nil {
		t.Fatal(err)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// consume polls cl until n records arrived.
func consume(t *testing.T, ctx context.Context, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("got %d of %d records: %v", len(out), n, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func splitHostPort(addr string) (string, int32) {
	host, ps, _ := net.SplitHostPort(addr)
	var p int32
	for _, c := range ps {
		p = p*10 + int32(c-'0')
	}
	return host, p
}
