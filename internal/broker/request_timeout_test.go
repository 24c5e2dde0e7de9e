package broker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// Timeouts end their requests in deadline order, on time (in a synctest
// bubble, whose clock moves only when every goroutine waits); a request
// answered in time leaves the heap.
func TestRequestFuncTimeoutOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		svc, err := e.b.Subscribe("svc.>", Start{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		answered := newOutcome()
		e.b.RequestFuncTimeout(context.Background(), time.Minute, &Message{Subject: "svc.echo"}, answered.done)
		e.pub((<-svc.Messages()).ReplyTo, "re")
		if err := <-answered.ch; err != nil {
			t.Fatal(err)
		}

		start := time.Now()
		ended := make(chan time.Duration, 3)
		for _, d := range []time.Duration{60 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond} {
			e.b.RequestFuncTimeout(context.Background(), d, &Message{Subject: "svc.mute"}, func(_ *Message, err error) {
				if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("timeout %v: %v", d, err)
				}
				if since := time.Since(start); since != d {
					t.Errorf("timeout %v ended after %v", d, since)
				}
				ended <- d
			})
			<-svc.Messages()
		}
		for i, want := range []time.Duration{20, 40, 60} {
			if got := <-ended; got != want*time.Millisecond {
				t.Fatalf("end %d: the request of %v, want %v", i, got, want*time.Millisecond)
			}
		}
		in := &e.b.inboxes
		in.mu.Lock()
		defer in.mu.Unlock()
		if len(in.m) != 0 || len(in.due) != 0 {
			t.Fatalf("left: %d inboxes, %d deadlines", len(in.m), len(in.due))
		}
	})
}

// The end of one ctx ends its requests of RequestFuncTimeout, not those
// of another ctx, and the broker forgets it.
func TestRequestFuncTimeoutGroups(t *testing.T) {
	e := newEnv(t)
	svc, err := e.b.Subscribe("svc.>", Start{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	a, cancelA := context.WithCancel(context.Background())
	b, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	var ofA []*outcome
	for range 3 {
		o := newOutcome()
		e.b.RequestFuncTimeout(a, time.Minute, &Message{Subject: "svc.mute"}, o.done)
		<-svc.Messages()
		ofA = append(ofA, o)
	}
	ofB := newOutcome()
	e.b.RequestFuncTimeout(b, 0, &Message{Subject: "svc.mute"}, ofB.done)
	<-svc.Messages()
	cancelA()
	for i, o := range ofA {
		if err := <-o.ch; !errors.Is(err, ErrTimeout) || !errors.Is(err, context.Canceled) {
			t.Fatalf("request %d of a: %v", i, err)
		}
	}
	in := &e.b.inboxes
	in.mu.Lock()
	left, groups := len(in.m), len(in.groups)
	in.mu.Unlock()
	if left != 1 || groups != 1 || ofB.calls.Load() != 0 {
		t.Fatalf("after a ended: %d inboxes, %d groups, b's request ended %d times; want 1, 1, 0", left, groups, ofB.calls.Load())
	}
	cancelB()
	if err := <-ofB.ch; !errors.Is(err, context.Canceled) {
		t.Fatalf("request of b: %v", err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.m) != 0 || len(in.groups) != 0 || len(in.due) != 0 {
		t.Fatalf("left: %d inboxes, %d groups, %d deadlines", len(in.m), len(in.groups), len(in.due))
	}
}

// Many requests at once, under a few contexts, some answered, some
// timing out, some ended by their ctx: each done is called exactly once,
// and the table, the heap and the groups end empty.
func TestRequestFuncTimeoutConcurrent(t *testing.T) {
	e := newEnv(t)
	svc, err := e.b.Subscribe("svc.>", Start{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var answering sync.WaitGroup
	defer func() { svc.Close(); answering.Wait() }()
	answering.Go(func() { // answers the even requests
		for {
			select {
			case m := <-svc.Messages():
				if m.Subject == "svc.even" { // a late reply may meet a closed broker
					_, _ = e.b.Publish(context.Background(), &Message{Subject: m.ReplyTo, Payload: []byte("re")}, Expect{})
				}
			case <-svc.Done():
				return
			}
		}
	})
	const workers, each = 4, 100
	var calls [workers * each]atomic.Int32
	var wg sync.WaitGroup
	for g := range workers {
		ctx, cancel := context.WithCancel(context.Background())
		wg.Go(func() {
			var pending sync.WaitGroup
			for i := range each {
				n := g*each + i
				subj := "svc.odd"
				if n%2 == 0 {
					subj = "svc.even"
				}
				pending.Add(1)
				timeout := time.Duration(1+n%5) * time.Millisecond
				if n%3 == 0 {
					timeout = time.Minute // only the reply or ctx ends it
				}
				e.b.RequestFuncTimeout(ctx, timeout, &Message{Subject: subj}, func(_ *Message, err error) {
					if calls[n].Add(1) == 1 {
						pending.Done()
					}
				})
				if i == each/2 {
					cancel()
				}
			}
			pending.Wait()
		})
	}
	wg.Wait()
	for n := range calls {
		if c := calls[n].Load(); c != 1 {
			t.Fatalf("request %d: done called %d times", n, c)
		}
	}
	in := &e.b.inboxes
	grpWaitFor(t, 5*time.Second, "the inbox table, heap and groups empty", func() bool {
		in.mu.Lock()
		defer in.mu.Unlock()
		return len(in.m) == 0 && len(in.due) == 0 && len(in.groups) == 0
	})
}
