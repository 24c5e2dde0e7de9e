package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/server"
)

func TestAPIPublishAndSubscribe(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, _ := p.clients(e)
			e.createStream(t, "orders", "orders.>")
			for i := range 3 {
				ack, err := mc.Publish(ctx, pub("orders.eu", fmt.Sprint("old", i)))
				if err != nil {
					t.Fatal(err)
				}
				if ack.Stream != "orders" || ack.Offset != int64(i) {
					t.Fatalf("ack %v, want orders offset %d", ack, i)
				}
			}
			replayThenLive(t, ctx, mc)
		})
	}
}

func wantSub(t *testing.T, sub courierv1connect.MessagingServiceSubscribeClientStream, payload string, offset int64) {
	t.Helper()
	r, err := sub.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Message.Payload) != payload || r.Message.Offset != offset || r.Message.Stream != "orders" {
		t.Fatalf("got %v, want %q at %d", r.Message, payload, offset)
	}
}

func TestAPISubscribeLiveUncaptured(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	mc, _ := e.clients()
	sub, err := mc.Subscribe(ctx, &courierv1.SubscribeRequest{Pattern: "chat.*"})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// The client's Subscribe returns before the server subscribed, and a
	// live subject keeps nothing: publish until a message arrives.
	got := make(chan *courierv1.SubscribeResponse, 1)
	go func() {
		defer close(got)
		if r, err := sub.Receive(); err == nil {
			got <- r
		}
	}()
	var r *courierv1.SubscribeResponse
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for r == nil {
		ack, err := mc.Publish(ctx, &courierv1.PublishRequest{Message: &courierv1.Message{Subject: "chat.room",
			Payload: []byte("hi"), Headers: []*courierv1.Header{{Key: "bin", BinaryValue: []byte{0xff, 0xfe}}, {Key: "txt", Value: "ok"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if ack.Stream != "" {
			t.Fatalf("uncaptured subject stored in %q", ack.Stream)
		}
		select {
		case r = <-got:
			if r == nil {
				t.Fatal("subscription ended without a message")
			}
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	hs := r.Message.Headers
	if string(r.Message.Payload) != "hi" || len(hs) != 2 || string(hs[0].BinaryValue) != "\xff\xfe" || hs[0].Value != "" || hs[1].Value != "ok" {
		t.Fatalf("got %v", r.Message)
	}
}

func TestAPIPublishDelayAndExpectations(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	mc, _ := e.clients()
	e.createStream(t, "orders", "orders.>")
	before := time.Now()
	req := pub("orders.eu", "later")
	req.Delay = durationpb.New(time.Hour)
	if _, err := mc.Publish(ctx, req); err != nil {
		t.Fatal(err)
	}
	msgs, _, err := e.srv.ReadMessages("orders", 0, 0, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("read %v %v", msgs, err)
	}
	if d := msgs[0].DeliverAt.Sub(before); d < time.Hour || d > time.Hour+time.Minute {
		t.Fatalf("deliver at %v after the publish, want about an hour", d)
	}
	req = pub("orders.eu", "x")
	wrong := int64(5)
	req.ExpectLastOffset = &wrong
	_, err = mc.Publish(ctx, req)
	info := wantErr(t, err, connect.CodeFailedPrecondition, "wrong_last_offset")
	if info.LastOffset != 0 {
		t.Fatalf("last offset %d, want 0", info.LastOffset)
	}
	right := int64(0)
	req.ExpectLastOffset = &right
	if ack, err := mc.Publish(ctx, req); err != nil || ack.Offset != 1 {
		t.Fatalf("publish with the right expectation: %v %v", ack, err)
	}
}

func TestAPIRequest(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, _ := p.clients(e)
			_, err := mc.Request(ctx, &courierv1.RequestRequest{Message: &courierv1.Message{Subject: "svc.echo"}})
			wantErr(t, err, connect.CodeUnavailable, "no_responders")

			sub, err := e.srv.Subscribe("svc.echo", server.Start{Kind: server.StartLatest}, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			go func() {
				select {
				case m := <-sub.Messages():
					e.srv.Publish(ctx, &server.Message{Subject: m.ReplyTo, Payload: append([]byte("re:"), m.Payload...)}, server.Expect{})
				case <-sub.Done():
				}
			}()
			res, err := mc.Request(ctx, &courierv1.RequestRequest{Message: &courierv1.Message{Subject: "svc.echo", Payload: []byte("ping")}})
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Reply.Payload) != "re:ping" {
				t.Fatalf("reply %q", res.Reply.Payload)
			}
			// Nobody answers now: the subscriber took one request.
			_, err = mc.Request(ctx, &courierv1.RequestRequest{Message: &courierv1.Message{Subject: "svc.echo"},
				Timeout: durationpb.New(50 * time.Millisecond)})
			wantErr(t, err, connect.CodeDeadlineExceeded, "timeout")
		})
	}
}

// TestAPIBadRequestsGenerated sends bad requests through the generated
// clients (Connect and gRPC over h2c): each gets its code and reason, and
// the same connection serves the next request.
func TestAPIBadRequestsGenerated(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{MaxMessageBytes: 4 << 10})
			ctx := testCtx(t)
			mc, _ := p.clients(e)
			if _, err := e.srv.CreateStream(server.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}, MaxMsgSize: 100}); err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				req    *courierv1.PublishRequest
				code   connect.Code
				reason string
			}{
				{pub("orders.eu", string(make([]byte, 8<<10))), connect.CodeResourceExhausted, "request_too_large"},
				{pub("orders.eu", string(make([]byte, 200))), connect.CodeInvalidArgument, "message_too_large"},
				{pub("orders..eu", ""), connect.CodeInvalidArgument, "invalid_argument"},
				{pub("", ""), connect.CodeInvalidArgument, "invalid_argument"},
			}
			for _, c := range cases {
				_, err := mc.Publish(ctx, c.req)
				wantErr(t, err, c.code, c.reason)
				if _, err := mc.Publish(ctx, pub("orders.eu", "ok")); err != nil {
					t.Fatalf("after %s: %v", c.reason, err)
				}
			}
			if n := e.api.Conns(); n != 1 {
				t.Fatalf("%d connections, want 1", n)
			}
		})
	}
}

// TestAPISubscribeHTTP1 streams over HTTP/1.1 (no h2c): replay, then a
// lone live message, which must not wait behind a held flush.
func TestAPISubscribeHTTP1(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	mc := courierv1connect.NewMessagingServiceClient(connect.NewClient(connecthttp.NewTransport(e.http, e.url)))
	e.createStream(t, "orders", "orders.>")
	for i := range 3 {
		if _, err := mc.Publish(ctx, pub("orders.eu", fmt.Sprint("old", i))); err != nil {
			t.Fatal(err)
		}
	}
	replayThenLive(t, ctx, mc)
}

// replayThenLive subscribes to orders.> from the earliest, expects the
// three messages old0..old2 stored there, then one published live.
func replayThenLive(t *testing.T, ctx context.Context, mc courierv1connect.MessagingServiceClient) {
	t.Helper()
	sub, err := mc.Subscribe(ctx, &courierv1.SubscribeRequest{Pattern: "orders.>",
		Start: &courierv1.Start{Position: &courierv1.Start_Earliest{Earliest: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := range 3 {
		wantSub(t, sub, fmt.Sprint("old", i), int64(i))
	}
	if _, err := mc.Publish(ctx, pub("orders.us", "live")); err != nil {
		t.Fatal(err)
	}
	wantSub(t, sub, "live", 3)
}
