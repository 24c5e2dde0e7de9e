package broker

import (
	"context"
	"errors"
	"testing"
	"time"
)

// RequestFuncTimeout ends a request with ErrTimeout when its own timeout
// passes or when its ctx ends, whichever comes first, calls done once,
// and a reply in time wins; timeout 0 leaves only ctx. It holds also
// when a stream captures the inboxes (the subscribed path).
func TestRequestFuncTimeout(t *testing.T) {
	e := newEnv(t)
	svc, err := e.b.Subscribe("svc.>", Start{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	bg := context.Background()

	timed := newOutcome()
	e.b.RequestFuncTimeout(bg, 20*time.Millisecond, &Message{Subject: "svc.mute"}, timed.done)
	<-svc.Messages()
	if err := <-timed.ch; !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("own timeout: %v, want ErrTimeout and DeadlineExceeded", err)
	}

	ctx, cancel := context.WithCancel(bg)
	cancelled := newOutcome()
	e.b.RequestFuncTimeout(ctx, time.Minute, &Message{Subject: "svc.mute"}, cancelled.done)
	<-svc.Messages()
	cancel()
	if err := <-cancelled.ch; !errors.Is(err, ErrTimeout) || !errors.Is(err, context.Canceled) {
		t.Fatalf("ctx ended first: %v, want ErrTimeout and Canceled", err)
	}

	for _, timeout := range []time.Duration{time.Minute, 0} {
		answered := newOutcome()
		e.b.RequestFuncTimeout(bg, timeout, &Message{Subject: "svc.echo"}, answered.done)
		req := <-svc.Messages()
		e.pub(req.ReplyTo, "re")
		if m, err := <-answered.reply, <-answered.ch; err != nil || string(m.Payload) != "re" {
			t.Fatalf("timeout %v, answered: %v %v", timeout, m, err)
		}
		if n := answered.calls.Load(); n != 1 {
			t.Fatalf("timeout %v: done called %d times", timeout, n)
		}
	}
	for name, o := range map[string]*outcome{"timed": timed, "cancelled": cancelled} {
		if n := o.calls.Load(); n != 1 {
			t.Errorf("%s: done called %d times", name, n)
		}
	}

	e.stream(StreamConfig{Name: "replies", Subjects: []string{InboxPrefix + ">"}})
	kept := newOutcome()
	e.b.RequestFuncTimeout(bg, 20*time.Millisecond, &Message{Subject: "svc.mute"}, kept.done)
	<-svc.Messages()
	if err := <-kept.ch; !errors.Is(err, ErrTimeout) {
		t.Fatalf("own timeout with captured inboxes: %v, want ErrTimeout", err)
	}
}
