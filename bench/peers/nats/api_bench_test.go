package nats

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The native-API peer runs: nats-server listening on 127.0.0.1 (real TCP,
// like Courier's API on loopback), so both pay for sockets and framing.

// BenchmarkNetJetStreamAsync: harness.AsyncPublishers publishers, each on
// its own connection pipelining js.PublishAsync (nats.go's default window
// of 4,000 unacknowledged), into one durable pull consumer served by
// harness.Consumers workers that ack every message. Compared with
// bench/api's BenchmarkAPIAsync.
func BenchmarkNetJetStreamAsync(b *testing.B) {
	for _, mode := range syncModes {
		for _, size := range harness.Sizes {
			for _, pubs := range harness.AsyncPublishers {
				b.Run(key(mode.always, pubs, size), func(b *testing.B) {
					t := startNetJetStream(b, mode.always, pubs, harness.Consumers)
					defer t.stop(b)
					load := harness.Load{Publishers: pubs, Size: size}
					r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) {
						return load.AsyncEndToEnd(n, t, &t.rcv, 60*time.Second)
					})
					harness.Report(b, "", r)
					b.ReportMetric(r.Rate()*float64(size)/1e6, "MB/s")
					b.ReportMetric(float64(r.Extra), "redelivered")
				})
			}
		}
	}
}

// BenchmarkNetJetStreamPublishAsync: one publisher pipelining
// js.PublishAsync, no consumers. Compared with bench/api's
// BenchmarkAPIPublishAsync.
func BenchmarkNetJetStreamPublishAsync(b *testing.B) {
	for _, mode := range syncModes {
		for _, size := range harness.Sizes {
			b.Run(key(mode.always, 1, size), func(b *testing.B) {
				t := startNetJetStream(b, mode.always, 1, 0)
				defer t.stop(b)
				src := harness.Payload(size)
				r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) {
					t0 := time.Now()
					for range n {
						if err := t.Publish(0, src); err != nil {
							return nil, err
						}
					}
					if err := t.Flush(0); err != nil {
						return nil, err
					}
					return &harness.Run{Msgs: int64(n), Elapsed: time.Since(t0)}, nil
				})
				b.ReportMetric(r.Rate(), "msgs/s")
				b.ReportMetric(r.Rate()*float64(size)/1e6, "MB/s")
			})
		}
	}
}

// BenchmarkNetCorePingPong: core NATS request/reply over TCP, one
// requester paced at harness.PingPongRate, one responder echoing.
// Compared with bench/api's BenchmarkAPIPingPong.
func BenchmarkNetCorePingPong(b *testing.B) { netCorePingPong(b, harness.PingPongPaces) }

// BenchmarkNetCoreRequestLoop is BenchmarkAPIRequestLoop's peer: core
// NATS requests one after another, unpaced.
func BenchmarkNetCoreRequestLoop(b *testing.B) { netCorePingPong(b, []harness.Pace{harness.PaceNone}) }

func netCorePingPong(b *testing.B, paces []harness.Pace) {
	ns := startNetServer(b, false)
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	rep, req := dial(b, ns), dial(b, ns)
	defer rep.Close()
	defer req.Close()
	if _, err := rep.Subscribe("ping", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	if err := rep.Flush(); err != nil {
		b.Fatal(err)
	}
	for _, pace := range paces {
		b.Run("pace="+pace.String(), func(b *testing.B) {
			r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) {
				return harness.PingPong(n, harness.PingPongRate, 128, pace, func(p []byte) error {
					_, err := req.Request("ping", p, 5*time.Second)
					return err
				})
			})
			harness.ReportLatency(b, "", r.Lat)
		})
	}
}

type netJetStream struct {
	ns       *server.Server
	conns    []*nats.Conn
	pubs     []jetstream.JetStream
	cons     []jetstream.ConsumeContext
	rcv      harness.Receiver
	failed   atomic.Int64
	stopping atomic.Bool
}

func startNetServer(b *testing.B, always bool) *server.Server {
	b.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: b.TempDir(), NoLog: true, NoSigs: true, SyncAlways: always})
	if err != nil {
		b.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats-server not ready")
	}
	return ns
}

func dial(b *testing.B, ns *server.Server) *nats.Conn {
	b.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	return nc
}

func startNetJetStream(b *testing.B, always bool, pubs, consumers int) *netJetStream {
	b.Helper()
	t := &netJetStream{ns: startNetServer(b, always)}
	ctx := context.Background()
	for range pubs {
		nc := dial(b, t.ns)
		t.conns = append(t.conns, nc)
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { t.failed.Add(1) }))
		if err != nil {
			b.Fatal(err)
		}
		t.pubs = append(t.pubs, js)
	}
	js := t.pubs[0]
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"},
		Storage: jetstream.FileStorage, Replicas: 1}); err != nil {
		b.Fatal(err)
	}
	if consumers == 0 {
		return t
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, "BENCH", jetstream.ConsumerConfig{Durable: "workers",
		AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy}); err != nil {
		b.Fatal(err)
	}
	for range consumers {
		nc := dial(b, t.ns)
		t.conns = append(t.conns, nc)
		cjs, err := jetstream.New(nc)
		if err != nil {
			b.Fatal(err)
		}
		t.cons = append(t.cons, work(b, cjs, &t.rcv, &t.stopping))
	}
	return t
}

// Publish implements harness.AsyncPublisher.
func (t *netJetStream) Publish(pub int, p []byte) error {
	for {
		_, err := t.pubs[pub].PublishAsync(subject, p)
		if err == nil {
			return nil
		}
		if err != jetstream.ErrTooManyStalledMsgs {
			return err
		}
		<-t.pubs[pub].PublishAsyncComplete()
	}
}

// Flush implements harness.AsyncPublisher.
func (t *netJetStream) Flush(pub int) error {
	select {
	case <-t.pubs[pub].PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		return fmt.Errorf("%d PubAcks still pending", t.pubs[pub].PublishAsyncPending())
	}
	if n := t.failed.Load(); n > 0 {
		return fmt.Errorf("%d async publishes failed", n)
	}
	return nil
}

func (t *netJetStream) stop(*testing.B) {
	t.stopping.Store(true)
	shutdown(t.ns, t.cons, t.conns)
}
