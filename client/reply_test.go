package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// serveEcho answers every request on sub with "echo: " and its payload,
// from several goroutines at once, until ctx ends.
func serveEcho(ctx context.Context, t *testing.T, c *Client, sub *Subscription, workers int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				req, err := sub.Next(ctx)
				if err != nil {
					return
				}
				err = c.Reply(ctx, req, &Message{Payload: append([]byte("echo: "), req.Payload...)})
				if err != nil && ctx.Err() == nil {
					t.Errorf("Reply: %v", err)
				}
			}
		})
	}
	return &wg
}

// TestReplyConcurrentRequestsGetTheirOwnReplies: replies sent at once
// from several goroutines over the client's reply stream each reach
// their own requester.
func TestReplyConcurrentRequestsGetTheirOwnReplies(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	sub, err := e.c.Subscribe(ctx, "svc.echo", Start{})
	if err != nil {
		t.Fatal(err)
	}
	wg := serveEcho(ctx, t, e.c, sub, 4)
	defer func() { cancel(); sub.Close(); wg.Wait() }()
	var reqs sync.WaitGroup
	for r := range 4 {
		reqs.Go(func() {
			for i := range 25 {
				p := fmt.Sprintf("%d-%d", r, i)
				rep, err := e.c.Request(ctx, &Message{Subject: "svc.echo", Payload: []byte(p)})
				if err != nil || string(rep.Payload) != "echo: "+p {
					t.Errorf("request %s: %v, %v", p, rep, err)
					return
				}
			}
		})
	}
	reqs.Wait()
}

// TestReplyRefusedByServerFailsReply: a reply the server refuses (its
// reply subject is invalid) fails Reply with the server's error, and
// the stream carries the next reply.
func TestReplyRefusedByServerFailsReply(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	err := e.c.Reply(ctx, &Message{Subject: "svc", ReplyTo: "bad..inbox"}, &Message{Payload: []byte("x")})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Reply to an invalid subject: %v, want ErrInvalid", err)
	}
	sub, err := e.c.Subscribe(ctx, "inbox.1", Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := e.c.Reply(ctx, &Message{Subject: "svc", ReplyTo: "inbox.1"}, &Message{Payload: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.Next(ctx); err != nil || string(m.Payload) != "y" {
		t.Fatalf("reply received: %v, %v", m, err)
	}
}

// TestReplyAcrossServerRestart: the reply stream breaks when the server
// restarts; the next Reply gets through (on a new stream, or as a
// Publish while the server comes back).
func TestReplyAcrossServerRestart(t *testing.T) {
	r := newRestartable(t)
	ctx := ctxT(t)
	c, err := Connect(ctx, r.ts.addr, WithRetries(100, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for round := range 2 {
		sub, err := c.Subscribe(ctx, "inbox.r", Start{})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("round %d", round)
		if err := c.Reply(ctx, &Message{Subject: "svc", ReplyTo: "inbox.r"}, &Message{Payload: []byte(want)}); err != nil {
			t.Fatalf("%s: Reply: %v", want, err)
		}
		if m, err := sub.Next(ctx); err != nil || string(m.Payload) != want {
			t.Fatalf("%s: received %v, %v", want, m, err)
		}
		sub.Close()
		if round == 0 {
			r.restart()
		}
	}
}

// TestReplyAfterClose fails with ErrClosed.
func TestReplyAfterClose(t *testing.T) {
	e := newEnv(t)
	e.c.Close()
	err := e.c.Reply(ctxT(t), &Message{Subject: "svc", ReplyTo: "inbox.1"}, &Message{})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Reply after Close: %v, want ErrClosed", err)
	}
}
