package client

import (
	"context"
	"fmt"
	"testing"
)

// Benchmarks publish 128-byte messages into one durable stream (fsync
// before every answer) of an in-process server over loopback h2c.
//
//	go test -run - -bench PublishAsync -benchtime 200000x ./client/
//	go test -run - -bench 'Publish$|PublishParallel' -benchtime 3000x ./client/
//
// On the shared 2-core machine (load ~8), 2026-11-26: Publish ~550
// msgs/s (one fsync each), PublishParallel ~2,900, PublishAsync
// (batch=1024) 82-88k, PublishAsyncKeyed 64-115k.

func benchEnv(b *testing.B, opts ...Option) *Client {
	b.Helper()
	ts := startServer(b, b.TempDir(), "127.0.0.1:0")
	b.Cleanup(ts.stop)
	ctx := context.Background()
	c, err := Connect(ctx, ts.addr, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	if _, err := c.CreateStream(ctx, StreamConfig{Name: "bench", Subjects: []string{"bench.>"}}); err != nil {
		b.Fatal(err)
	}
	return c
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds()/1e6, "MB/s")
}

func BenchmarkPublish(b *testing.B) {
	c := benchEnv(b)
	m := &Message{Subject: "bench.x", Payload: make([]byte, 128)}
	ctx := context.Background()
	b.SetBytes(128)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Publish(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkPublishParallel: many goroutines publishing synchronously at
// once (their fsyncs are grouped by the log).
func BenchmarkPublishParallel(b *testing.B) {
	c := benchEnv(b)
	ctx := context.Background()
	b.SetBytes(128)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		m := &Message{Subject: "bench.x", Payload: make([]byte, 128)}
		for pb.Next() {
			if _, err := c.Publish(ctx, m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRate(b)
}

// BenchmarkPublishAsync: one goroutine publishing asynchronously, one
// subject (so one lane: every message in order), by batch size.
func BenchmarkPublishAsync(b *testing.B) {
	for _, size := range []int{256, 1024, 4096} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			benchmarkPublishAsync(b, WithBatch(size, 0))
		})
	}
}

func benchmarkPublishAsync(b *testing.B, opts ...Option) {
	c := benchEnv(b, opts...)
	m := &Message{Subject: "bench.x", Payload: make([]byte, 128)}
	b.SetBytes(128)
	b.ResetTimer()
	for range b.N {
		c.PublishAsync(m)
	}
	if err := c.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	reportRate(b)
}

// BenchmarkPublishAsyncKeyed: messages spread over keys, so every lane
// has a batch in flight.
func BenchmarkPublishAsyncKeyed(b *testing.B) {
	c := benchEnv(b)
	keys := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e"), []byte("f"), []byte("g"), []byte("h")}
	payload := make([]byte, 128)
	b.SetBytes(128)
	b.ResetTimer()
	for i := range b.N {
		c.PublishAsync(&Message{Subject: "bench.x", Key: keys[i%len(keys)], Payload: payload})
	}
	if err := c.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	reportRate(b)
}
