package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
	"github.com/courier-mq/courier/client"
	"github.com/courier-mq/courier/internal/api"
	"github.com/courier-mq/courier/server"
)

func BenchmarkAPIAsync(b *testing.B) {
	for _, size := range harness.Sizes {
		for _, pubs := range harness.AsyncPublishers {
			b.Run(fmt.Sprintf("msg=%s/pubs=%d", harness.SizeName(size), pubs), func(b *testing.B) {
				e := start(b, pubs, harness.Consumers)
				defer e.stop(b)
				load := harness.Load{Publishers: pubs, Size: size}
				r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) {
					return load.AsyncEndToEnd(n, e, &e.rcv, 60*time.Second)
				})
				harness.Report(b, "", r)
				b.ReportMetric(r.Rate()*float64(size)/1e6, "MB/s")
				b.ReportMetric(float64(r.Extra), "redelivered")
			})
		}
	}
}

func BenchmarkAPIPublishAsync(b *testing.B) {
	for _, size := range harness.Sizes {
		b.Run(fmt.Sprintf("msg=%s/pubs=1", harness.SizeName(size)), func(b *testing.B) {
			e := start(b, 1, 0)
			defer e.stop(b)
			src := harness.Payload(size)
			r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) {
				t0 := time.Now()
				for range n {
					if err := e.Publish(0, src); err != nil {
						return nil, err
					}
				}
				if err := e.Flush(0); err != nil {
					return nil, err
				}
				return &harness.Run{Msgs: int64(n), Elapsed: time.Since(t0)}, nil
			})
			b.ReportMetric(r.Rate(), "msgs/s")
			b.ReportMetric(r.Rate()*float64(size)/1e6, "MB/s")
		})
	}
}

func BenchmarkAPIPingPong(b *testing.B) {
	for _, tr := range []struct {
		name string
		opts []client.Option
	}{{"wire", nil}, {"http", []client.Option{client.WithHTTP()}}} {
		for _, pace := range harness.PingPongPaces {
			b.Run("transport="+tr.name+"/pace="+pace.String(), func(b *testing.B) { pingPong(b, pace, tr.opts) })
		}
	}
}

// BenchmarkAPIRequestLoop: requests one after another, each sent as
// soon as the last is answered: the time (and allocations) of one round
// trip's whole path, with no pacing. Run it with -cpu 1 to compare the
// work on the path with BenchmarkNetCoreRequestLoop.
func BenchmarkAPIRequestLoop(b *testing.B) { pingPong(b, harness.PaceNone, nil) }

func pingPong(b *testing.B, pace harness.Pace, opts []client.Option) {
	e := start(b, 2, 0, opts...)
	defer e.stop(b)
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := e.pubs[0].Subscribe(ctx, "ping", client.Start{})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			if err := e.pubs[0].Reply(ctx, m, &client.Message{Payload: m.Payload}); err != nil && ctx.Err() == nil {
				b.Error(err)
			}
		}
	})
	defer func() { cancel(); sub.Close(); wg.Wait() }()
	r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) {
		return harness.PingPong(n, harness.PingPongRate, 128, pace, func(p []byte) error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := e.pubs[1].Request(ctx, &client.Message{Subject: "ping", Payload: p})
			return err
		})
	})
	harness.ReportLatency(b, "", r.Lat)
}

// env is a server with its API on 127.0.0.1, publisher clients, and the
// members of a shared group "workers" on stream BENCH (bench.>).
type env struct {
	srv      *server.Server
	api      *api.Server
	served   chan error
	pubs     []*client.Client
	cons     []*client.Client
	futs     [][]*client.PubFuture
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	rcv      harness.Receiver
	stopping atomic.Bool
}

func start(b *testing.B, pubs, consumers int, opts ...client.Option) *env {
	b.Helper()
	srv, err := server.New(server.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	e := &env{srv: srv, api: api.New(srv.Broker, api.Options{}), served: make(chan error, 1), futs: make([][]*client.PubFuture, pubs)}
	go func() { e.served <- e.api.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	for range pubs {
		e.pubs = append(e.pubs, dial(b, ln.Addr().String(), opts...))
	}
	if _, err := e.pubs[0].CreateStream(ctx, client.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}}); err != nil {
		b.Fatal(err)
	}
	if consumers == 0 {
		return e
	}
	if _, err := e.pubs[0].CreateGroup(ctx, client.GroupConfig{Name: "workers", Stream: "BENCH", Mode: "shared", AckWait: 30 * time.Second}); err != nil {
		b.Fatal(err)
	}
	for range consumers {
		c := dial(b, ln.Addr().String(), opts...)
		e.cons = append(e.cons, c)
		e.wg.Go(func() {
			err := c.Consume(ctx, "BENCH", "workers", func(_ context.Context, d *client.Delivery) error {
				e.rcv.Got(d.Payload)
				return nil
			})
			if err != nil && !e.stopping.Load() {
				b.Error(err)
			}
		})
	}
	return e
}

// transportEnv set to "http" makes every client of these benchmarks talk
// HTTP/2 (client.WithHTTP), to compare the transports.
const transportEnv = "COURIER_BENCH_TRANSPORT"

func dial(b *testing.B, addr string, opts ...client.Option) *client.Client {
	if os.Getenv(transportEnv) == "http" {
		opts = append(opts, client.WithHTTP())
	}
	c, err := client.Connect(context.Background(), addr, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

const subject = "bench.msgs"

// Publish implements harness.AsyncPublisher.
func (e *env) Publish(pub int, p []byte) error {
	e.futs[pub] = append(e.futs[pub], e.pubs[pub].PublishAsync(&client.Message{Subject: subject, Payload: p}))
	return nil
}

// Flush implements harness.AsyncPublisher: it waits for every future and
// reports the first failure.
func (e *env) Flush(pub int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errs []error
	for _, f := range e.futs[pub] {
		if _, err := f.Wait(ctx); err != nil {
			errs = append(errs, err)
			break
		}
	}
	e.futs[pub] = e.futs[pub][:0]
	return errors.Join(errs...)
}

func (e *env) stop(b *testing.B) {
	e.stopping.Store(true)
	e.cancel()
	e.wg.Wait()
	for _, c := range append(e.pubs, e.cons...) {
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.api.Shutdown(ctx); err != nil {
		b.Error(err)
	}
	<-e.served
	if err := e.srv.Shutdown(ctx); err != nil {
		b.Error(err)
	}
}
