package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/server"
)

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx := testCtx(t)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// subscribeLive subscribes to a live subject and returns once a message
// published to it arrived, so the subscription surely exists.
func subscribeLive(t *testing.T, e *testEnv, mc courierv1connect.MessagingServiceClient, ctx context.Context, subject string) courierv1connect.MessagingServiceSubscribeClientStream {
	t.Helper()
	sub, err := mc.Subscribe(ctx, &courierv1.SubscribeRequest{Pattern: subject})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := sub.Receive()
		got <- err
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := e.srv.Publish(ctx, &server.Message{Subject: subject}, server.Expect{}); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
			return sub
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("subscription never received")
		}
	}
}

func TestAPIShutdownEndsStreams(t *testing.T) {
	for _, p := range []protocol{protocols[0], protocols[2]} { // connect, wire
		t.Run(p.name, func(t *testing.T) { shutdownEndsStreams(t, p) })
	}
}

func shutdownEndsStreams(t *testing.T, p protocol) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	mc, _ := p.clients(e)
	e.jobsGroup(t)
	e.publishN(t, "jobs.a", 1)
	c := e.join(t, mc, "jobs", "w", 1)
	c.delivery() // left unsettled
	sub := subscribeLive(t, e, mc, ctx, "chat.x")

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.api.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// Messages sent before Shutdown may still be read, then the end.
	if !ends(func() error { _, err := sub.Receive(); return err }) {
		t.Fatal("subscription still open after Shutdown")
	}
	var cerr error
	if !ends(func() error { _, cerr = c.Receive(); return cerr }) {
		t.Fatal("consume stream still open after Shutdown")
	}
	wantErr(t, cerr, connect.CodeUnavailable, "shutting_down")
	// The member left: its unsettled message is the group's again.
	waitFor(t, "the member to leave", func() bool {
		gi, err := e.srv.GroupInfo("jobs", "w")
		return err == nil && gi.Members == 0 && gi.InFlight == 0
	})
}

// ends reports whether receive fails within a few hundred messages.
func ends(receive func() error) bool {
	for range 500 {
		if receive() != nil {
			return true
		}
	}
	return false
}

func TestAPISubscribeSlowConsumer(t *testing.T) {
	for _, p := range []protocol{protocols[0], protocols[2]} { // connect, wire
		t.Run(p.name, func(t *testing.T) { subscribeSlowConsumer(t, p) })
	}
}

func subscribeSlowConsumer(t *testing.T, p protocol) {
	e := startEnv(t, Options{subscriptionBuffer: 1})
	ctx := testCtx(t)
	mc, _ := p.clients(e)
	sub := subscribeLive(t, e, mc, ctx, "chat.x")
	// Stop reading and flood: once the stream's credit (HTTP/2's or
	// wire's) and socket buffers are full, the handler blocks in Send, the one-message buffer fills and the broker
	// cuts the subscription.
	payload := bytes.Repeat([]byte("x"), 64<<10)
	for range 1024 {
		if _, err := e.srv.Publish(ctx, &server.Message{Subject: "chat.x", Payload: payload}, server.Expect{}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2048 {
		if _, err := sub.Receive(); err != nil {
			wantErr(t, err, connect.CodeResourceExhausted, "slow_consumer")
			return
		}
	}
	t.Fatal("the subscription was never cut")
}

func TestAPIConns(t *testing.T) {
	e := startEnv(t, Options{})
	for _, client := range []*http.Client{e.h2c, e.http} {
		ac := courierv1connect.NewAdminServiceClient(connect.NewClient(connecthttp.NewTransport(client, e.url)))
		for range 3 {
			if _, err := ac.ListStreams(testCtx(t), &courierv1.ListStreamsRequest{}); err != nil {
				t.Fatal(err)
			}
		}
		if n := e.api.Conns(); n != 1 {
			t.Fatalf("%d connections, want 1", n)
		}
		client.CloseIdleConnections()
		waitFor(t, "the connection to close", func() bool { return e.api.Conns() == 0 })
	}
	_, ac := e.wireClients()
	for range 3 {
		if _, err := ac.ListStreams(testCtx(t), &courierv1.ListStreamsRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.api.Conns(); n != 1 {
		t.Fatalf("%d wire connections, want 1", n)
	}
	e.mu.Lock()
	e.wires[0].Close()
	e.mu.Unlock()
	waitFor(t, "the wire connection to close", func() bool { return e.api.Conns() == 0 })
}

// Over wire too, a message over the limit fails its call with
// request_too_large, and the connection carries on.
func TestAPIWireOversizedMessage(t *testing.T) {
	e := startEnv(t, Options{MaxMessageBytes: 1 << 10})
	e.createStream(t, "orders", "orders.>")
	mc, _ := e.wireClients()
	big := &courierv1.PublishRequest{Message: &courierv1.Message{Subject: "orders.1", Payload: bytes.Repeat([]byte("x"), 2<<10)}}
	_, err := mc.Publish(testCtx(t), big)
	wantErr(t, err, connect.CodeResourceExhausted, "request_too_large")
	small := &courierv1.PublishRequest{Message: &courierv1.Message{Subject: "orders.1", Payload: []byte("ok")}}
	if _, err := mc.Publish(testCtx(t), small); err != nil {
		t.Fatalf("publish after an oversized one: %v", err)
	}
}

func TestAPIServeAfterShutdown(t *testing.T) {
	e := startEnv(t, Options{})
	if err := e.api.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := e.http.Get(e.url + "/healthz")
	var ne interface{ Timeout() bool }
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("request after Shutdown: %v, want a refused connection", err)
	}
}
