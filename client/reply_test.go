package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/api"
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

// logRecords is a slog handler that hands each record on.
type logRecords chan slog.Record

func (l logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l logRecords) Handle(_ context.Context, r slog.Record) error {
	select {
	case l <- r:
	default:
	}
	return nil
}
func (l logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logRecords) WithGroup(string) slog.Handler      { return l }

// TestReplyRefusedByServerIsLogged: Reply returns once the reply is sent;
// one the server refuses (its reply subject is invalid) is logged with
// the server's reason, and the stream carries the next reply.
func TestReplyRefusedByServerIsLogged(t *testing.T) {
	logs := make(logRecords, 16)
	e := newEnv(t, WithLogger(slog.New(logs)))
	ctx := ctxT(t)
	if err := e.c.Reply(ctx, &Message{Subject: "svc", ReplyTo: "bad..inbox"}, &Message{Payload: []byte("x")}); err != nil {
		t.Fatalf("Reply: %v", err)
	}
	select {
	case r := <-logs:
		var attrs []string
		r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a.String()); return true })
		if r.Message != "courier: reply refused" || !strings.Contains(strings.Join(attrs, " "), "bad..inbox") ||
			!strings.Contains(strings.Join(attrs, " "), "invalid") {
			t.Fatalf("logged %q %v", r.Message, attrs)
		}
	case <-ctx.Done():
		t.Fatal("the refusal was not logged")
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

// TestReplyAnswersDropKeptReplies: the server answers published replies
// together, and the client then forgets them; Close waits for the
// answers of the last ones.
func TestReplyAnswersDropKeptReplies(t *testing.T) {
	logs := make(logRecords, 16)
	e := newEnv(t, WithLogger(slog.New(logs)))
	ctx := ctxT(t)
	for i := range 200 { // more than the server answers at once
		if err := e.c.Reply(ctx, &Message{Subject: "svc", ReplyTo: "inbox.gone"}, &Message{Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for kept := -1; kept != 0; {
		e.c.replies.mu.Lock()
		kept = len(e.c.replies.unanswered)
		e.c.replies.mu.Unlock()
		if ctx.Err() != nil {
			t.Fatalf("%d replies still unanswered", kept)
		}
		time.Sleep(time.Millisecond)
	}
	if err := e.c.Reply(ctx, &Message{Subject: "svc", ReplyTo: "inbox.gone"}, &Message{Payload: []byte("last")}); err != nil {
		t.Fatal(err)
	}
	// Close waits for the last reply's answer: a reply still unanswered
	// when the stream ends is published again, which fails on a closed
	// client and is logged.
	e.c.Close()
	select {
	case r := <-logs:
		t.Fatalf("Close did not wait for the answer: logged %q", r.Message)
	default:
	}
}

// TestReplyFallsBackToPublish: a server without ReplyStream gets the
// replies as unary Publishes (tried once), and they arrive. (The route
// that hides ReplyStream is an HTTP one, so the client talks HTTP.)
func TestReplyFallsBackToPublish(t *testing.T) {
	var refused atomic.Int32
	addr := startAPI(t, api.Options{Routes: map[string]http.Handler{
		"POST /courier.v1.MessagingService/ReplyStream": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			refused.Add(1)
			http.NotFound(w, nil)
		}),
	}})
	c, err := Connect(ctxT(t), addr, WithHTTP())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxT(t)
	sub, err := c.Subscribe(ctx, "inbox.f", Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := range 3 {
		want := fmt.Sprint("reply ", i)
		if err := c.Reply(ctx, &Message{Subject: "svc", ReplyTo: "inbox.f"}, &Message{Payload: []byte(want)}); err != nil {
			t.Fatal(err)
		}
		if m, err := sub.Next(ctx); err != nil || string(m.Payload) != want {
			t.Fatalf("received %v, %v; want %q", m, err, want)
		}
	}
	if refused.Load() != 1 {
		t.Fatalf("ReplyStream tried %d times, want once", refused.Load())
	}
}

// TestReplyAcrossServerRestart: the reply stream breaks when the server
// restarts; the next Reply gets through (on a new stream, or as a
// Publish while the server comes back). Each round has its own inbox, as
// requests do: a reply not yet answered when the server went away is
// published again, and would reach a reused inbox twice.
func TestReplyAcrossServerRestart(t *testing.T) {
	r := newRestartable(t)
	ctx := ctxT(t)
	c, err := Connect(ctx, r.ts.addr, WithRetries(100, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for round := range 2 {
		inbox := fmt.Sprint("inbox.r", round)
		sub, err := c.Subscribe(ctx, inbox, Start{})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("round %d", round)
		if err := c.Reply(ctx, &Message{Subject: "svc", ReplyTo: inbox}, &Message{Payload: []byte(want)}); err != nil {
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
