package broker

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/subject"
)

// Inboxes are valid subjects under InboxPrefix, unique also when made
// concurrently, and not predictable from one another: consecutive ones
// differ in their random part, not only in the sequence number.
func TestRequestInboxNames(t *testing.T) {
	const goroutines, each = 4, 2000
	names := make([][]string, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				names[g] = append(names[g], NewInbox())
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, list := range names {
		for i, n := range list {
			if seen[n] {
				t.Fatalf("inbox %q made twice", n)
			}
			seen[n] = true
			if err := subject.ValidateSubject(n); err != nil || !strings.HasPrefix(n, InboxPrefix) {
				t.Fatalf("inbox %q: %v", n, err)
			}
			if i > 0 && randomPart(n) == randomPart(list[i-1]) {
				t.Fatalf("inboxes %q and %q share their random part", list[i-1], n)
			}
		}
	}
}

func randomPart(inbox string) string { return inbox[len(InboxPrefix) : len(InboxPrefix)+16] }

// The broker's close ends every waiting request with ErrClosed, those
// whose ctx can never end too (they have no AfterFunc of their own) and
// those of RequestFuncTimeout, and a request after the close fails at
// once.
func TestRequestFuncCloseEndsAll(t *testing.T) {
	e := newEnv(t)
	svc, err := e.b.Subscribe("svc.>", Start{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	timed, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var waiting []*outcome
	for _, ctx := range []context.Context{context.Background(), timed, context.Background(), timed} {
		o := newOutcome()
		e.b.RequestFunc(ctx, &Message{Subject: "svc.mute"}, o.done)
		<-svc.Messages()
		shared := newOutcome()
		e.b.RequestFuncTimeout(ctx, time.Minute, &Message{Subject: "svc.mute"}, shared.done)
		<-svc.Messages()
		waiting = append(waiting, o, shared)
	}
	e.b.Close()
	for i, o := range waiting {
		if err := <-o.ch; !errors.Is(err, ErrClosed) {
			t.Fatalf("request %d: %v, want ErrClosed", i, err)
		}
	}
	after := newOutcome()
	e.b.RequestFunc(context.Background(), &Message{Subject: "svc.late"}, after.done)
	select {
	case err := <-after.ch:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("request after close: %v, want ErrClosed", err)
		}
	default:
		t.Fatal("a request after close did not fail at once")
	}
	for i, o := range append(waiting, after) {
		if n := o.calls.Load(); n != 1 {
			t.Errorf("request %d: done called %d times", i, n)
		}
	}
	e.b.inboxes.mu.Lock()
	left := len(e.b.inboxes.m)
	e.b.inboxes.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d inboxes left after close", left)
	}
}

// A core message reaches every matching subscriber, more than deliverCore
// matches on its stack buffer too, and a reply reaches a subscriber of
// the inboxes as well as its request.
func TestRequestCoreFanOut(t *testing.T) {
	e := newEnv(t)
	var subs []*Subscription
	for range coreFanOut + 3 {
		s, err := e.b.Subscribe("fan.*", Start{}, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		subs = append(subs, s)
	}
	if n := e.b.deliverCore(&Message{Subject: "fan.out", Time: time.Now()}); n != len(subs) {
		t.Fatalf("delivered to %d, want %d", n, len(subs))
	}
	for i, s := range subs {
		if m := <-s.Messages(); m.Subject != "fan.out" {
			t.Fatalf("subscriber %d got %q", i, m.Subject)
		}
	}

	spy, err := e.b.Subscribe(InboxPrefix+">", Start{}, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer spy.Close()
	o := newOutcome()
	e.b.RequestFunc(context.Background(), &Message{Subject: "fan.req"}, o.done)
	req := <-subs[0].Messages()
	if n := e.b.deliverCore(&Message{Subject: req.ReplyTo, Time: time.Now()}); n != 2 {
		t.Fatalf("reply delivered to %d, want the request and the inbox subscriber", n)
	}
	if err := <-o.ch; err != nil {
		t.Fatal(err)
	}
	if m := <-spy.Messages(); m.Subject != req.ReplyTo {
		t.Fatalf("inbox subscriber got %q, want %q", m.Subject, req.ReplyTo)
	}
}
