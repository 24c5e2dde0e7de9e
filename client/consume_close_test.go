package client

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Close releases the deliveries that arrived but were never taken: the
// next member gets them as first deliveries, and with max deliveries 1
// none is dead-lettered. An explicit Release does the same for one.
func TestCloseReleasesUntakenDeliveries(t *testing.T) {
	e := newEnv(t, WithLogger(testLogger(t)))
	e.stream(t, "jobs", 1, "jobs.>")
	e.stream(t, "dlq", 1, "dlq.>")
	ctx := ctxT(t)
	if _, err := e.c.CreateGroup(ctx, GroupConfig{Name: "g", Stream: "jobs", MaxDeliveries: 1, DeadLetter: "dlq.jobs", AckWait: time.Hour}); err != nil {
		t.Fatal(err)
	}
	const n = 6
	for i := range n {
		if _, err := e.c.Publish(ctx, &Message{Subject: "jobs.a", Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := e.c.Join(ctx, "jobs", "g", MaxInFlight(10))
	if err != nil {
		t.Fatal(err)
	}
	first, err := k.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := k.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	waitQueued(t, k, n-1) // the rest arrived, untaken, and the released one came back
	k.Close()
	gi0, _ := e.c.Group(ctx, "jobs", "g")
	t.Logf("after close: %+v", gi0)

	k2, err := e.c.Join(ctx, "jobs", "g", MaxInFlight(10))
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	seen := map[string]bool{}
	for len(seen) < n-1 {
		d, err := k2.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d: %v", len(seen), n-1, err)
		}
		if d.Deliveries != 1 {
			t.Fatalf("%s delivered %d times, want 1: the release did not uncount it", d.Payload, d.Deliveries)
		}
		seen[string(d.Payload)] = true
		if err := d.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if seen[string(first.Payload)] {
		t.Fatalf("the acked message came back: %v", seen)
	}
	gi, err := e.c.Group(ctx, "jobs", "g")
	if err != nil {
		t.Fatal(err)
	}
	if gi.DeadLettered != 0 || gi.Acked != n {
		t.Fatalf("group %+v, want %d acked and none dead-lettered", gi, n)
	}
}

// waitQueued waits until at least n deliveries wait in k's queue.
func waitQueued(t *testing.T, k *Consumer, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		k.mu.Lock()
		got := len(k.mu.queue)
		k.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-k.notify:
		case <-ctx.Done():
			t.Fatalf("%d deliveries queued, want %d", got, n)
		}
	}
}
