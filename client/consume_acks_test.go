package client

import (
	"context"
	"testing"
	"time"
)

// Consume holds its acks while the consumer still has deliveries in hand,
// but not for long: with one handler stuck, the other messages' acks
// reach the server (within ackLinger), and every ack does once all are
// done.
func TestConsumeHeldAcksGoOutWhileAHandlerRuns(t *testing.T) {
	e := newEnv(t)
	e.stream(t, "jobs", 1, "jobs.>")
	ctx := ctxT(t)
	if _, err := e.c.CreateGroup(ctx, GroupConfig{Name: "g", Stream: "jobs", AckWait: time.Hour}); err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		if _, err := e.c.Publish(ctx, &Message{Subject: "jobs.a", Payload: []byte{byte('0' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	acked := func() int64 {
		gi, err := e.c.Group(ctx, "jobs", "g")
		if err != nil {
			t.Fatal(err)
		}
		return gi.Acked
	}
	release := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- e.c.Consume(cctx, "jobs", "g", func(ctx context.Context, d *Delivery) error {
			if string(d.Payload) == "0" {
				select { // stuck until the others' acks are seen
				case <-release:
				case <-ctx.Done():
				}
			}
			return nil
		}, MaxInFlight(n))
	}()
	waitFor(t, func() bool { return acked() == n-1 })
	close(release)
	waitFor(t, func() bool { return acked() == n })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
