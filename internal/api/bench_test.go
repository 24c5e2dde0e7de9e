package api

import (
	"bytes"
	"testing"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/server"
)

// benchEnv is a server with one durable stream, "bench.>".
func benchEnv(b *testing.B) *testEnv {
	e := startEnv(b, Options{})
	if _, err := e.srv.CreateStream(server.StreamConfig{Name: "bench", Subjects: []string{"bench.>"}}); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkAPIPublish is unary publishes of 128 B from parallel callers
// over one h2c connection (fsync per group commit).
func BenchmarkAPIPublish(b *testing.B) {
	e := benchEnv(b)
	mc, _ := e.clients()
	payload := bytes.Repeat([]byte("x"), 128)
	b.SetBytes(128)
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		req := &courierv1.PublishRequest{Message: &courierv1.Message{Subject: "bench.a", Payload: payload}}
		for pb.Next() {
			if _, err := mc.Publish(b.Context(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAPIPublishBatch is one client stream of b.N messages of 128 B.
func BenchmarkAPIPublishBatch(b *testing.B) {
	e := benchEnv(b)
	mc, _ := e.clients()
	req := &courierv1.PublishBatchRequest{Publish: &courierv1.PublishRequest{
		Message: &courierv1.Message{Subject: "bench.a", Payload: bytes.Repeat([]byte("x"), 128)}}}
	b.SetBytes(128)
	b.ResetTimer()
	st, err := mc.PublishBatch(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		if err := st.Send(req); err != nil {
			b.Fatal(err)
		}
	}
	res, err := st.CloseAndReceive()
	if err != nil || len(res.Results) != b.N {
		b.Fatalf("%d results, %v", len(res.GetResults()), err)
	}
}
