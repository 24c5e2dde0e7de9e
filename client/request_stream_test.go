package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Concurrent requests share the client's request stream, each getting its
// own reply; a request nobody answers fails with ErrNoResponders.
func TestRequestsShareTheStream(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	sub, err := e.c.Subscribe(ctx, "svc.>", Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	go func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			_ = e.c.Reply(ctx, m, &Message{Payload: append([]byte("re:"), m.Payload...)})
		}
	}()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			p := fmt.Sprint(i)
			r, err := e.c.Request(ctx, &Message{Subject: "svc.echo", Payload: []byte(p)})
			if err != nil || string(r.Payload) != "re:"+p {
				t.Errorf("request %s: %v %v", p, r, err)
			}
		})
	}
	wg.Wait()
	e.c.requests.mu.Lock()
	onStream := e.c.requests.nextID
	e.c.requests.mu.Unlock()
	if onStream != 20 {
		t.Fatalf("%d requests went on the stream, want 20", onStream)
	}
	if _, err := e.c.Request(ctx, &Message{Subject: "nobody.home"}); !errors.Is(err, ErrNoResponders) {
		t.Fatalf("request without responders: %v, want ErrNoResponders", err)
	}
}

// unaryOnlyServer answers Request but has no RequestStream.
type unaryOnlyServer struct{ stuckServer }

func (unaryOnlyServer) Request(_ context.Context, req *courierv1.RequestRequest) (*courierv1.RequestResponse, error) {
	return &courierv1.RequestResponse{Reply: &courierv1.Message{Payload: req.GetMessage().GetPayload()}}, nil
}

// Against a server without RequestStream, Request makes unary calls.
func TestRequestFallsBackToUnary(t *testing.T) {
	addr := serveFake(t, unaryOnlyServer{})
	ctx := ctxT(t)
	c, err := Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 2 {
		r, err := c.Request(ctx, &Message{Subject: "a", Payload: []byte{byte('0' + i)}})
		if err != nil || len(r.Payload) != 1 || r.Payload[0] != byte('0'+i) {
			t.Fatalf("request %d: %v %v", i, r, err)
		}
	}
	c.requests.mu.Lock()
	unary := c.requests.unary
	c.requests.mu.Unlock()
	if !unary {
		t.Fatal("the client did not learn that the server lacks RequestStream")
	}
}
