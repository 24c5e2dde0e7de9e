package broker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// outcome records RequestFunc's calls of done.
type outcome struct {
	calls atomic.Int32
	ch    chan error
	reply chan *Message
}

func newOutcome() *outcome { return &outcome{ch: make(chan error, 4), reply: make(chan *Message, 4)} }

func (o *outcome) done(m *Message, err error) {
	o.calls.Add(1)
	o.reply <- m
	o.ch <- err
}

// RequestFunc calls done exactly once: with the first reply, or with
// no responders, a timeout, or the broker closing; a reply after the end
// is dropped.
func TestRequestFuncCallsDoneOnce(t *testing.T) {
	e := newEnv(t)
	svc, err := e.b.Subscribe("svc.>", Start{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()

	o := newOutcome()
	e.b.RequestFunc(ctx, &Message{Subject: "svc.echo", Payload: []byte("x")}, o.done)
	req := <-svc.Messages()
	for range 2 { // the second reply finds nobody waiting
		e.b.Publish(ctx, &Message{Subject: req.ReplyTo, Payload: []byte("re")}, Expect{})
	}
	if m, err := <-o.reply, <-o.ch; err != nil || string(m.Payload) != "re" {
		t.Fatalf("reply: %v %v", m, err)
	}

	nobody := newOutcome()
	e.b.RequestFunc(ctx, &Message{Subject: "other.x"}, nobody.done)
	if err := <-nobody.ch; !errors.Is(err, ErrNoResponders) {
		t.Fatalf("no responders: %v", err)
	}

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	late := newOutcome()
	e.b.RequestFunc(short, &Message{Subject: "svc.mute"}, late.done)
	if err := <-late.ch; !errors.Is(err, ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	req = <-svc.Messages()
	e.b.Publish(ctx, &Message{Subject: req.ReplyTo, Payload: []byte("too late")}, Expect{})

	closing := newOutcome()
	e.b.RequestFunc(ctx, &Message{Subject: "svc.never"}, closing.done)
	<-svc.Messages()
	e.b.Close()
	if err := <-closing.ch; !errors.Is(err, ErrClosed) {
		t.Fatalf("broker closed: %v", err)
	}
	for name, o := range map[string]*outcome{"reply": o, "nobody": nobody, "late": late, "closing": closing} {
		if n := o.calls.Load(); n != 1 {
			t.Errorf("%s: done called %d times", name, n)
		}
	}
	e.b.inboxes.mu.Lock()
	left := len(e.b.inboxes.m)
	e.b.inboxes.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d inboxes left", left)
	}
}
