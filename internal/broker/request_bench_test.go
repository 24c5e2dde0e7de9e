package broker

import (
	"context"
	"testing"
	"time"
)

// BenchmarkRequestFunc is one request/reply round trip through the broker
// alone, the way the native API makes it: a request with its own timeout
// context, a core subscriber on another goroutine that answers each
// request, and a stream (as a server has) so that the capture index is
// not empty. Run it with -cpu 1 -benchmem: allocs/op is the broker's
// share of BenchmarkAPIRequestLoop's, plus the benchmark's own context,
// request and reply.
func BenchmarkRequestFunc(b *testing.B) {
	benchRequests(b, func(br *Broker, m *Message, done func(*Message, error)) context.CancelFunc {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		br.RequestFunc(ctx, m, done)
		return cancel
	})
}

// BenchmarkRequestFuncTimeout is BenchmarkRequestFunc with the timeout
// given to the broker (RequestFuncTimeout) under one long-lived context,
// as a stream's requests could be made.
func BenchmarkRequestFuncTimeout(b *testing.B) {
	stream, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchRequests(b, func(br *Broker, m *Message, done func(*Message, error)) context.CancelFunc {
		br.RequestFuncTimeout(stream, 5*time.Second, m, done)
		return func() {}
	})
}

// benchRequests makes requests one after another; request returns what
// to call once the reply is in.
func benchRequests(b *testing.B, request func(*Broker, *Message, func(*Message, error)) context.CancelFunc) {
	e := newEnv(b)
	e.stream(StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}})
	svc, err := e.b.Subscribe("svc.echo", Start{}, 0)
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		answer(e.b, svc)
	}()
	defer func() { svc.Close(); <-served }()
	replies := make(chan error, 1)
	done := func(_ *Message, err error) { replies <- err }
	payload := []byte("ping")
	for b.Loop() {
		after := request(e.b, &Message{Subject: "svc.echo", Payload: payload}, done)
		err := <-replies
		after()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// answer replies to every request svc receives until it ends.
func answer(b *Broker, svc *Subscription) {
	for {
		select {
		case m := <-svc.Messages():
			b.Publish(context.Background(), &Message{Subject: m.ReplyTo, Payload: m.Payload}, Expect{})
		case <-svc.Done():
			return
		}
	}
}
