package nats

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

var syncModes = []struct {
	name   string
	always bool
}{{"always", true}, {"default", false}}

// BenchmarkJetStreamPublish: N publishers, each on its own connection,
// each publishing one message at a time and waiting for its PubAck.
func BenchmarkJetStreamPublish(b *testing.B) {
	forShapes(b, func(b *testing.B, always bool, pubs, size int) {
		t := startJetStream(b, always, pubs, 0)
		defer t.stop(b)
		load := harness.Load{Publishers: pubs, Size: size}
		r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) { return load.Publish(n, t.publish) })
		harness.Report(b, "", r)
	})
}

// BenchmarkJetStreamEndToEnd: the publishers of BenchmarkJetStreamPublish
// and harness.Consumers workers of one durable pull consumer, acking
// every message. Measured as in bench/core's BenchmarkCoreEndToEnd.
func BenchmarkJetStreamEndToEnd(b *testing.B) {
	forShapes(b, func(b *testing.B, always bool, pubs, size int) {
		t := startJetStream(b, always, pubs, harness.Consumers)
		defer t.stop(b)
		load := harness.Load{Publishers: pubs, Size: size}
		r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) {
			return load.EndToEnd(n, t.publish, &t.rcv, 30*time.Second)
		})
		maxRates.Set(key(always, pubs, size), r.Rate())
		harness.Report(b, "", r)
		harness.ReportLatency(b, "pub-", r.PubLat)
		b.ReportMetric(float64(r.Extra), "redelivered")
	})
}

var maxRates harness.MaxRates

// BenchmarkJetStreamPaced runs the end-to-end work from
// harness.PacedPublishers publishers at half the rate the unpaced run of
// the same sync mode reached in this process (or in a calibration run).
func BenchmarkJetStreamPaced(b *testing.B) {
	for _, mode := range syncModes {
		for _, size := range harness.Sizes {
			pubs := harness.PacedPublishers
			b.Run(key(mode.always, pubs, size), func(b *testing.B) {
				t := startJetStream(b, mode.always, pubs, harness.Consumers)
				defer t.stop(b)
				load := harness.Load{Publishers: pubs, Size: size}
				top, err := maxRates.Get(key(mode.always, pubs, size), func(n int) (*harness.Run, error) {
					return load.EndToEnd(n, t.publish, &t.rcv, 30*time.Second)
				})
				if err != nil {
					b.Fatal(err)
				}
				load.Rate = top / 2
				r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) {
					return load.EndToEnd(n, t.publish, &t.rcv, 30*time.Second+time.Duration(float64(n)/load.Rate*2e9))
				})
				harness.Report(b, "", r)
				harness.ReportPaced(b, load.Rate, r)
			})
		}
	}
}

// BenchmarkJetStreamPublishAsync: one connection pipelining PublishAsync
// (up to the client's default of 4,000 unacknowledged), waiting for all
// PubAcks at the end of each slice. Throughput only; Courier has no
// in-process equivalent, so this row is not compared.
func BenchmarkJetStreamPublishAsync(b *testing.B) {
	for _, mode := range syncModes {
		for _, size := range harness.Sizes {
			b.Run(fmt.Sprintf("sync=%s/msg=%s/pubs=1", mode.name, harness.SizeName(size)), func(b *testing.B) {
				t := startJetStream(b, mode.always, 1, 0)
				defer t.stop(b)
				p := harness.Payload(size)
				r, _ := harness.Interleave(b, func(n int) (*harness.Run, error) { return t.publishAsync(n, p) })
				b.ReportMetric(r.Rate(), "msgs/s")
			})
		}
	}
}

func forShapes(b *testing.B, f func(b *testing.B, always bool, pubs, size int)) {
	for _, mode := range syncModes {
		for _, size := range harness.Sizes {
			for _, pubs := range harness.Publishers {
				b.Run(key(mode.always, pubs, size), func(b *testing.B) { f(b, mode.always, pubs, size) })
			}
		}
	}
}

func key(always bool, pubs, size int) string {
	mode := "default"
	if always {
		mode = "always"
	}
	return fmt.Sprintf("sync=%s/msg=%s/pubs=%d", mode, harness.SizeName(size), pubs)
}

const subject = "bench.msgs"

// jetStream is an embedded server with one file-storage stream, BENCH,
// that only in-process connections reach.
type jetStream struct {
	ns       *server.Server
	conns    []*nats.Conn
	pubs     []jetstream.JetStream
	cons     []jetstream.ConsumeContext
	rcv      harness.Receiver
	stopping atomic.Bool // acks may fail once connections close
}

func startJetStream(b *testing.B, always bool, pubs, consumers int) *jetStream {
	b.Helper()
	ns, err := server.NewServer(&server.Options{DontListen: true, JetStream: true,
		StoreDir: b.TempDir(), NoLog: true, NoSigs: true, SyncAlways: always})
	if err != nil {
		b.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats-server not ready")
	}
	t := &jetStream{ns: ns}
	ctx := context.Background()
	for range pubs {
		t.pubs = append(t.pubs, t.connect(b))
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
		t.cons = append(t.cons, work(b, t.connect(b), &t.rcv, &t.stopping))
	}
	return t
}

// work starts one worker of the durable consumer "workers" of BENCH on
// js: it records every message in rcv and acks it.
func work(b *testing.B, js jetstream.JetStream, rcv *harness.Receiver, stopping *atomic.Bool) jetstream.ConsumeContext {
	b.Helper()
	c, err := js.Consumer(context.Background(), "BENCH", "workers")
	if err != nil {
		b.Fatal(err)
	}
	cc, err := c.Consume(func(m jetstream.Msg) {
		rcv.Got(m.Data())
		if err := m.Ack(); err != nil && !stopping.Load() {
			b.Error(err)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	return cc
}

func (t *jetStream) connect(b *testing.B) jetstream.JetStream {
	b.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(t.ns))
	if err != nil {
		b.Fatal(err)
	}
	t.conns = append(t.conns, nc)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	return js
}

func (t *jetStream) publish(pub int, p []byte) error {
	_, err := t.pubs[pub].Publish(context.Background(), subject, p)
	return err
}

// publishAsync pipelines n PublishAsync calls and waits for every PubAck.
func (t *jetStream) publishAsync(n int, p []byte) (*harness.Run, error) {
	js := t.pubs[0]
	start := time.Now()
	for i := 0; i < n; {
		_, err := js.PublishAsync(subject, p)
		switch {
		case errors.Is(err, jetstream.ErrTooManyStalledMsgs):
			<-js.PublishAsyncComplete()
		case err != nil:
			return nil, err
		default:
			i++
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("%d PubAcks still pending", js.PublishAsyncPending())
	}
	return &harness.Run{Msgs: int64(n), Elapsed: time.Since(start)}, nil
}

func (t *jetStream) stop(*testing.B) {
	t.stopping.Store(true)
	shutdown(t.ns, t.cons, t.conns)
}

// shutdown stops consumers, closes connections, then stops the server.
func shutdown(ns *server.Server, cons []jetstream.ConsumeContext, conns []*nats.Conn) {
	for _, cc := range cons {
		cc.Stop()
	}
	for _, nc := range conns {
		nc.Close()
	}
	ns.Shutdown()
	ns.WaitForShutdown()
}
