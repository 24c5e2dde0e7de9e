package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
)

// restartable is a server that can be stopped and started again on the
// same data directory and port.
type restartable struct {
	t   *testing.T
	dir string
	ts  *testServer
}

func newRestartable(t *testing.T) *restartable {
	r := &restartable{t: t, dir: t.TempDir()}
	r.ts = startServer(t, r.dir, "127.0.0.1:0")
	t.Cleanup(func() {
		if r.ts != nil {
			r.ts.stop()
		}
	})
	return r
}

func (r *restartable) restart() {
	addr := r.ts.addr
	t0 := time.Now()
	defer func() { r.t.Logf("restart took %v", time.Since(t0)) }()
	r.ts.stop()
	r.ts = nil
	r.ts = startServer(r.t, r.dir, addr)
}

func TestReconnectConsumeResumesAcrossRestart(t *testing.T) {
	r := newRestartable(t)
	ctx := ctxT(t)
	c, err := Connect(ctx, r.ts.addr, WithRetries(100, 10*time.Millisecond), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateStream(ctx, StreamConfig{Name: "jobs", Subjects: []string{"jobs.>"}, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, GroupConfig{Name: "w", Stream: "jobs"}); err != nil {
		t.Fatal(err)
	}
	const half, maxInFlight = 100, 4
	publish := func(from int) {
		// The first message goes alone (retried while the server
		// restarts), the rest in batches.
		if _, err := c.Publish(ctx, &Message{Subject: "jobs.0", Payload: fmt.Appendf(nil, "%d", from)}); err != nil {
			t.Fatal(err)
		}
		var fs []*PubFuture
		for i := from + 1; i < from+half; i++ {
			fs = append(fs, c.PublishAsync(&Message{Subject: fmt.Sprintf("jobs.%d", i%3), Payload: fmt.Appendf(nil, "%d", i)}))
		}
		for _, f := range fs {
			if _, err := f.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(0)

	var mu sync.Mutex
	counts := map[string]int{}
	allDone := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	consumed := make(chan error, 1)
	go func() {
		consumed <- c.Consume(cctx, "jobs", "w", func(_ context.Context, d *Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			counts[string(d.Payload)]++
			if len(counts) == 2*half && counts[string(d.Payload)] == 1 {
				close(allDone)
			}
			return nil
		}, MaxInFlight(maxInFlight))
	}()
	sub, err := c.Subscribe(ctx, "jobs.>", StartEarliest())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	subscribed := make(chan error, 1)
	go func() { subscribed <- readAll(ctx, sub, 2*half) }()

	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(counts) >= half/2 })
	r.restart()
	publish(half)
	select {
	case <-allDone:
	case <-ctx.Done():
		mu.Lock()
		t.Fatalf("processed %d of %d messages", len(counts), 2*half)
	}
	cancel()
	if err := <-consumed; err != nil {
		t.Fatal(err)
	}
	dups := 0
	for _, n := range counts {
		dups += n - 1
	}
	if dups > 2*maxInFlight {
		t.Errorf("%d messages processed twice; only the %d in flight at the restart may be", dups, maxInFlight)
	}
	if err := <-subscribed; err != nil {
		t.Fatal(err)
	}
}

// readAll reads n messages from sub and checks each stream position
// comes once.
func readAll(ctx context.Context, sub *Subscription, n int) error {
	seen := map[[2]int64]bool{}
	for len(seen) < n {
		m, err := sub.Next(ctx)
		if err != nil {
			return fmt.Errorf("after %d messages: %w", len(seen), err)
		}
		pos := [2]int64{int64(m.Partition), m.Offset}
		if seen[pos] {
			return fmt.Errorf("message at %v delivered twice", pos)
		}
		seen[pos] = true
	}
	return nil
}

// waitFor polls cond until it holds or the test's context ends.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx := ctxT(t)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met in time")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestReconnectStaleSettle(t *testing.T) {
	r := newRestartable(t)
	ctx := ctxT(t)
	c, err := Connect(ctx, r.ts.addr, WithRetries(100, 10*time.Millisecond), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateStream(ctx, StreamConfig{Name: "jobs", Subjects: []string{"jobs.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, GroupConfig{Name: "w", Stream: "jobs"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, &Message{Subject: "jobs.a", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	k, err := c.Join(ctx, "jobs", "w")
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	d, err := k.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.restart()
	if err := d.Ack(ctx); !errors.Is(err, ErrStaleDelivery) {
		t.Fatalf("ack of a delivery from before the restart: %v, want ErrStaleDelivery", err)
	}
	d2, err := k.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(d2.Payload) != "x" || d2.Deliveries < 2 {
		t.Fatalf("redelivery %+v", d2.Message)
	}
	if err := d2.Ack(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReconnectLiveSubscriptionResubscribes(t *testing.T) {
	r := newRestartable(t)
	ctx := ctxT(t)
	c, err := Connect(ctx, r.ts.addr, WithRetries(100, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sub, err := c.Subscribe(ctx, "live.>", Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	r.restart()
	// Live messages published before the subscription is back are
	// missed: publish until one arrives.
	got := make(chan *Message, 1)
	go func() {
		if m, err := sub.Next(ctx); err == nil {
			got <- m
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case m := <-got:
			if m.Subject != "live.x" || m.Stream != "" {
				t.Fatalf("got %+v", m)
			}
			return
		case <-tick.C:
			if _, err := c.Publish(ctx, &Message{Subject: "live.x", Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("the subscription did not come back after the restart")
		}
	}
}

// A live subscription that heard from only one partition of a stream
// gets, after a restart, everything stored while the server was away in
// every partition, and nothing twice.
func TestReconnectSubscriptionMissesNoPartition(t *testing.T) {
	r := newRestartable(t)
	ctx := ctxT(t)
	c, err := Connect(ctx, r.ts.addr, WithRetries(100, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateStream(ctx, StreamConfig{Name: "ev", Subjects: []string{"ev.*"}, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, "ev.*", Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// Messages keyed "a" go to one partition; heard before the restart.
	var first PubAck
	for i := range 3 {
		if first, err = c.Publish(ctx, &Message{Subject: "ev.x", Key: []byte("a"), Payload: fmt.Appendf(nil, "before-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := readAll(ctx, sub, 3); err != nil {
		t.Fatal(err)
	}
	// While the API is away, messages land in both partitions.
	r.ts.stop()
	srv, err := server.New(server.Options{DataDir: r.dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	parts := map[int]bool{}
	for i := 0; len(parts) < 2 || len(want) < 6; i++ {
		ack, err := srv.Publish(ctx, &server.Message{Subject: "ev.y", Key: fmt.Appendf(nil, "k%d", i), Payload: fmt.Appendf(nil, "away-%d", i)}, server.Expect{})
		if err != nil {
			t.Fatal(err)
		}
		parts[ack.Partition] = true
		want[fmt.Sprintf("away-%d", i)] = true
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	r.ts = startServer(t, r.dir, r.ts.addr)
	for len(want) > 0 {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("%d messages stored while away not received: %v (%v)", len(want), err, want)
		}
		if !want[string(m.Payload)] {
			t.Fatalf("unexpected or repeated message %q (partition %d, offset %d; first partition %d)", m.Payload, m.Partition, m.Offset, first.Partition)
		}
		delete(want, string(m.Payload))
	}
}
