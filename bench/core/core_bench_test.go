package core

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
	"github.com/courier-mq/courier/server"
)

// BenchmarkCorePublish: N publishers, each publishing one message at a
// time to a durable stream and waiting for its ack, interleaved with N
// appenders on a bare log. Latencies are per Publish call.
func BenchmarkCorePublish(b *testing.B) {
	forShapes(b, func(b *testing.B, pubs, size int) {
		c := startCourier(b, 0)
		lb := newLogBaseline(b, pubs, size)
		load := harness.Load{Publishers: pubs, Size: size}
		r, base := harness.Interleave(b, func(n int) (*harness.Run, error) {
			return load.Publish(n, c.publish)
		}, lb.run)
		c.stop(b)
		lb.close(b, base[0])
		harness.Report(b, "", r)
		harness.Report(b, "log-", base[0])
		b.ReportMetric(r.Rate()/base[0].Rate(), "ratio-to-log")
	})
}

// BenchmarkCoreEndToEnd: the publishers of BenchmarkCorePublish, and a
// shared group of harness.Consumers members acking every message. msgs/s
// counts messages received from the first publish of a slice to the last
// receipt; latencies run from the start of the Publish call to receipt
// (pub- latencies are per Publish call).
func BenchmarkCoreEndToEnd(b *testing.B) {
	forShapes(b, func(b *testing.B, pubs, size int) {
		c := startCourier(b, harness.Consumers)
		lb := newLogBaseline(b, pubs, size)
		load := harness.Load{Publishers: pubs, Size: size}
		r, base := harness.Interleave(b, func(n int) (*harness.Run, error) {
			return load.EndToEnd(n, c.publish, &c.rcv, 30*time.Second)
		}, lb.run)
		c.stop(b)
		lb.close(b, base[0])
		maxRates.Set(shapeName(pubs, size), r.Rate())
		harness.Report(b, "", r)
		harness.ReportLatency(b, "pub-", r.PubLat)
		harness.Report(b, "log-", base[0])
		b.ReportMetric(r.Rate()/base[0].Rate(), "ratio-to-log")
		b.ReportMetric(float64(r.Extra), "redelivered")
	})
}

var maxRates harness.MaxRates

// BenchmarkCorePaced runs BenchmarkCoreEndToEnd's work from
// harness.PacedPublishers publishers at half the rate the unpaced run
// reached in this process (or in a calibration run of about a second when
// it did not run). Latencies are end to end, from the start of each
// Publish call; lag-p99 says how late publishers started against the
// schedule. The log baseline appends at the same paced rate from as many
// appenders (log- latencies are per Append).
func BenchmarkCorePaced(b *testing.B) {
	for _, size := range harness.Sizes {
		pubs := harness.PacedPublishers
		b.Run(shapeName(pubs, size), func(b *testing.B) {
			c := startCourier(b, harness.Consumers)
			defer c.stop(b)
			load := harness.Load{Publishers: pubs, Size: size}
			top, err := maxRates.Get(shapeName(pubs, size), func(n int) (*harness.Run, error) {
				return load.EndToEnd(n, c.publish, &c.rcv, 30*time.Second)
			})
			if err != nil {
				b.Fatal(err)
			}
			load.Rate = top / 2
			lb := newLogBaseline(b, pubs, size)
			r, base := harness.Interleave(b, func(n int) (*harness.Run, error) {
				return load.EndToEnd(n, c.publish, &c.rcv, 30*time.Second+time.Duration(float64(n)/load.Rate*2e9))
			}, func(d time.Duration) (*harness.Run, error) {
				return load.Publish(max(int(d.Seconds()*load.Rate), 1), lb.publish)
			})
			lb.close(b, base[0])
			harness.Report(b, "", r)
			harness.ReportPaced(b, load.Rate, r)
			harness.Report(b, "log-", base[0])
		})
	}
}

func forShapes(b *testing.B, f func(b *testing.B, pubs, size int)) {
	for _, size := range harness.Sizes {
		for _, pubs := range harness.Publishers {
			b.Run(shapeName(pubs, size), func(b *testing.B) { f(b, pubs, size) })
		}
	}
}

func shapeName(pubs, size int) string {
	return fmt.Sprintf("msg=%s/pubs=%d", harness.SizeName(size), pubs)
}

// courier is an embedded server with one stream, "bench" (one partition,
// the default durable sync), and optionally a shared group whose members
// ack every message after handing it to rcv.
type courier struct {
	srv      *server.Server
	members  []*server.Member
	wg       sync.WaitGroup
	rcv      harness.Receiver
	stopping atomic.Bool // acks may fail once members leave
}

const subject = "bench.msgs"

func startCourier(b *testing.B, consumers int) *courier {
	b.Helper()
	srv, err := server.New(server.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	c := &courier{srv: srv}
	if _, err := srv.CreateStream(server.StreamConfig{Name: "bench", Subjects: []string{"bench.>"}}); err != nil {
		b.Fatal(err)
	}
	if consumers == 0 {
		return c
	}
	if _, err := srv.CreateGroup(server.GroupConfig{Name: "workers", Stream: "bench", Mode: server.Shared}); err != nil {
		b.Fatal(err)
	}
	for range consumers {
		m, err := srv.Join("bench", "workers", 0)
		if err != nil {
			b.Fatal(err)
		}
		c.members = append(c.members, m)
		c.wg.Go(func() { c.consume(b, m) })
	}
	return c
}

func (c *courier) consume(b *testing.B, m *server.Member) {
	for {
		select {
		case d := <-m.C():
			c.rcv.Got(d.Payload)
			if err := d.Ack(); err != nil && !c.stopping.Load() {
				b.Error(err)
			}
		case <-m.Done():
			return
		}
	}
}

func (c *courier) publish(_ int, p []byte) error {
	_, err := c.srv.Publish(context.Background(), &server.Message{Subject: subject, Payload: p}, server.Expect{})
	return err
}

func (c *courier) stop(b *testing.B) {
	b.Helper()
	c.stopping.Store(true)
	for _, m := range c.members {
		m.Leave()
	}
	c.wg.Wait()
	c.members = nil
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
}
