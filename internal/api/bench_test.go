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
	req := &courierv1.PublishBatchRequest{Publishes: []*courierv1.PublishRequest{{
		Message: &courierv1.Message{Subject: "bench.a", Payload: bytes.Repeat([]byte("x"), 128)}}}}
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

// fill publishes n messages of 128 B to the bench stream.
func (e *testEnv) fill(b *testing.B, n int) {
	mc, _ := e.clients()
	st, err := mc.PublishBatch(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	req := &courierv1.PublishBatchRequest{Publishes: []*courierv1.PublishRequest{{
		Message: &courierv1.Message{Subject: "bench.a", Payload: bytes.Repeat([]byte("x"), 128)}}}}
	for range n {
		if err := st.Send(req); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := st.CloseAndReceive(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAPISubscribe replays b.N stored messages of 128 B.
func BenchmarkAPISubscribe(b *testing.B) {
	e := benchEnv(b)
	e.fill(b, b.N)
	mc, _ := e.clients()
	b.SetBytes(128)
	b.ResetTimer()
	sub, err := mc.Subscribe(b.Context(), &courierv1.SubscribeRequest{Pattern: "bench.>",
		Start: &courierv1.Start{Position: &courierv1.Start_Earliest{Earliest: true}}})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	for range b.N {
		if _, err := sub.Receive(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPIConsume consumes b.N stored messages of 128 B in a shared
// group, acking each, on one stream with the default max in flight.
func BenchmarkAPIConsume(b *testing.B) {
	e := benchEnv(b)
	e.fill(b, b.N)
	if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "g", Stream: "bench"}); err != nil {
		b.Fatal(err)
	}
	mc, _ := e.clients()
	b.SetBytes(128)
	b.ResetTimer()
	st, err := mc.Consume(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	st.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Join{Join: &courierv1.Join{Stream: "bench", Group: "g"}}})
	for n := 0; n < b.N; {
		r, err := st.Receive()
		if err != nil {
			b.Fatal(err)
		}
		if d := r.GetDelivery(); d != nil {
			n++
			st.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Settle{Settle: &courierv1.Settle{
				DeliveryId: d.DeliveryId, Action: courierv1.Settle_ACTION_ACK}}})
		}
	}
}
