package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSubscribeReplayThenLive(t *testing.T) {
	e := newEnv(t)
	e.stream(t, "orders", 1, "orders.>")
	ctx := ctxT(t)
	if _, err := e.c.Publish(ctx, &Message{Subject: "orders.eu", Payload: []byte("old"),
		Headers: []Header{{"k", "v"}, {"bin", "\xff\x00"}}}); err != nil {
		t.Fatal(err)
	}
	sub, err := e.c.Subscribe(ctx, "orders.*", StartEarliest())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	live, err := e.c.Subscribe(ctx, "news.>", Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := e.c.Publish(ctx, &Message{Subject: "orders.us", Payload: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if ack, err := e.c.Publish(ctx, &Message{Subject: "news.today", Payload: []byte("uncaptured")}); err != nil || ack.Stream != "" {
		t.Fatalf("publish uncaptured: %+v %v", ack, err)
	}
	for i, want := range []string{"old", "new"} {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Payload) != want || m.Offset != int64(i) || m.Stream != "orders" {
			t.Fatalf("message %d: %+v, want %q at offset %d", i, m, want, i)
		}
		if i == 0 {
			if v, _ := m.Header("bin"); v != "\xff\x00" {
				t.Errorf("binary header came back as %q", v)
			}
		}
	}
	m, err := live.Next(ctx)
	if err != nil || string(m.Payload) != "uncaptured" {
		t.Fatalf("live subscriber got %+v, %v", m, err)
	}
	sub.Close()
	if _, err := sub.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v, want ErrClosed", err)
	}
}

func TestRequestReply(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	sub, err := e.c.Subscribe(ctx, "svc.echo", Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	done := make(chan error, 1)
	go func() {
		req, err := sub.Next(ctx)
		if err == nil {
			err = e.c.Reply(ctx, req, &Message{Payload: append([]byte("echo: "), req.Payload...)})
		}
		done <- err
	}()
	rep, err := e.c.Request(ctx, &Message{Subject: "svc.echo", Payload: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if string(rep.Payload) != "echo: hi" {
		t.Fatalf("reply %q", rep.Payload)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, err = e.c.Request(ctx, &Message{Subject: "svc.nobody"})
	if !errors.Is(err, ErrNoResponders) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("request without responders: %v, want ErrNoResponders", err)
	}
}

func TestPublishAsyncOrderAndFutures(t *testing.T) {
	e := newEnv(t, WithBatch(256, 0), WithLanes(4), WithMaxInFlight(2048))
	e.stream(t, "ev", 3, "ev.>")
	ctx := ctxT(t)
	const n = 10000
	futures := make([]*PubFuture, n)
	for i := range n {
		m := &Message{Subject: fmt.Sprintf("ev.s%d", i%5), Payload: fmt.Appendf(nil, "%d", i)}
		if i%2 == 0 {
			m.Key = fmt.Appendf(nil, "k%d", i%7)
		}
		futures[i] = e.c.PublishAsync(m)
	}
	if err := e.c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Per key (or subject without a key), offsets grow in publish order.
	last := map[string]PubAck{}
	seen := map[[2]int64]bool{}
	for i, f := range futures {
		select {
		case <-f.Done():
		default:
			t.Fatalf("future %d not resolved after Flush", i)
		}
		ack, err := f.Wait(ctx)
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		pos := [2]int64{int64(ack.Partition), ack.Offset}
		if seen[pos] {
			t.Fatalf("two messages at %v", pos)
		}
		seen[pos] = true
		lane := fmt.Sprintf("s%d", i%5)
		if i%2 == 0 {
			lane = fmt.Sprintf("k%d", i%7)
		}
		if prev, ok := last[lane]; ok && prev.Partition == ack.Partition && prev.Offset >= ack.Offset {
			t.Fatalf("publish %d (%s) at %+v, after %+v", i, lane, ack, prev)
		}
		last[lane] = ack
	}
	si, err := e.c.Stream(ctx, "ev")
	if err != nil || si.Messages() != n {
		t.Fatalf("stream has %d messages (%v), want %d", si.Messages(), err, n)
	}
}

func TestPublishAsyncOneLaneKeepsTotalOrder(t *testing.T) {
	e := newEnv(t, WithBatch(64, 0), WithLanes(1), WithMaxInFlight(512))
	e.stream(t, "ev", 1, "ev.>")
	const n = 2000
	futures := make([]*PubFuture, n)
	for i := range n {
		futures[i] = e.c.PublishAsync(&Message{Subject: fmt.Sprintf("ev.%d", i%13), Key: fmt.Appendf(nil, "%d", i)})
	}
	for i, f := range futures {
		ack, err := f.Wait(ctxT(t))
		if err != nil || ack.Offset != int64(i) {
			t.Fatalf("publish %d: %+v %v, want offset %d", i, ack, err, i)
		}
	}
}

func TestPublishAsyncBackPressure(t *testing.T) {
	e := newEnv(t, WithMaxInFlight(8), WithBatch(4, 0), WithLanes(1))
	e.stream(t, "ev", 1, "ev.>")
	p := func() *asyncPublisher {
		e.c.pubOnce.Do(e.c.startPublisher)
		return e.c.pub
	}()
	var mu sync.Mutex
	peak := 0
	const n = 200
	futures := make([]*PubFuture, 0, n)
	for i := range n {
		futures = append(futures, e.c.PublishAsync(&Message{Subject: "ev.x", Payload: fmt.Appendf(nil, "%d", i)}))
		mu.Lock()
		peak = max(peak, len(p.sem))
		mu.Unlock()
	}
	if peak > 8 {
		t.Fatalf("%d publishes pending at once, bound is 8", peak)
	}
	if peak < 2 {
		t.Fatalf("peak pending %d: publishes were not pipelined", peak)
	}
	if err := e.c.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for i, f := range futures {
		if ack, err := f.Wait(ctxT(t)); err != nil || ack.Offset != int64(i) {
			t.Fatalf("publish %d: %+v %v", i, ack, err)
		}
	}
	if len(p.sem) != 0 {
		t.Fatalf("%d tokens still held after every future resolved", len(p.sem))
	}
}

func TestPublishAsyncAfterClose(t *testing.T) {
	e := newEnv(t)
	e.stream(t, "ev", 1, "ev.>")
	f := e.c.PublishAsync(&Message{Subject: "ev.a"})
	if err := e.c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Wait(ctxT(t)); err != nil {
		t.Fatalf("a publish queued before Close: %v", err)
	}
	if _, err := e.c.PublishAsync(&Message{Subject: "ev.a"}).Wait(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after Close: %v, want ErrClosed", err)
	}
}

func TestConsumeAcksAndNacks(t *testing.T) {
	e := newEnv(t)
	e.stream(t, "jobs", 1, "jobs.>")
	ctx := ctxT(t)
	if _, err := e.c.CreateGroup(ctx, GroupConfig{Name: "workers", Stream: "jobs"}); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if _, err := e.c.Publish(ctx, &Message{Subject: "jobs.a", Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	got := map[string]int{}
	failedOnce := map[string]bool{}
	err := e.c.Consume(cctx, "jobs", "workers", func(_ context.Context, d *Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		p := string(d.Payload)
		if p == "3" && !failedOnce[p] {
			failedOnce[p] = true
			return errors.New("transient")
		}
		got[p]++
		if len(got) == n {
			cancel()
		}
		return nil
	}, MaxInFlight(4))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("processed %d distinct messages, want %d", len(got), n)
	}
}

func TestJoinExplicitSettles(t *testing.T) {
	e := newEnv(t)
	e.stream(t, "jobs", 1, "jobs.>")
	ctx := ctxT(t)
	if _, err := e.c.Join(ctx, "jobs", "nobody"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("join of a missing group: %v, want ErrGroupNotFound", err)
	}
	if _, err := e.c.CreateGroup(ctx, GroupConfig{Name: "g", Stream: "jobs"}); err != nil {
		t.Fatal(err)
	}
	k, err := e.c.Join(ctx, "jobs", "g", MaxInFlight(2))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, err := e.c.Publish(ctx, &Message{Subject: "jobs.x", Payload: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	d, err := k.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Payload) != "a" || d.Deliveries != 1 {
		t.Fatalf("delivery %+v", d.Message)
	}
	if err := d.Nack(ctx, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	d, err = k.Next(ctx)
	if err != nil || d.Deliveries != 2 {
		t.Fatalf("redelivery %+v, %v", d, err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); !errors.Is(err, ErrAlreadySettled) {
		t.Fatalf("second ack: %v, want ErrAlreadySettled", err)
	}
	shortCtx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if d, err := k.Next(shortCtx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with nothing left: %+v, %v", d, err)
	}
}

func TestClosedClientRefusesCalls(t *testing.T) {
	e := newEnv(t)
	e.c.Close()
	ctx := ctxT(t)
	if _, err := e.c.PublishAsync(&Message{Subject: "a"}).Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("PublishAsync: %v", err)
	}
	if err := e.c.Flush(ctx); err != nil {
		t.Errorf("Flush: %v", err)
	}
	if _, err := e.c.Publish(ctx, &Message{Subject: "a"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish: %v", err)
	}
	if _, err := e.c.Subscribe(ctx, "a", Start{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe: %v", err)
	}
	if _, err := e.c.Join(ctx, "s", "g"); !errors.Is(err, ErrClosed) {
		t.Errorf("Join: %v", err)
	}
}
