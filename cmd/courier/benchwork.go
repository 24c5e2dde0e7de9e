package main

import (
	"context"
	"sync"
	"time"

	"github.com/courier-mq/courier/client"
)

// The publishers' and consumers' loops of `courier bench`.

// publish runs the publishers and waits for every publish to be acked.
func (b *benchRun) publish(ctx context.Context) {
	var wg sync.WaitGroup
	var deadline time.Time
	if b.o.duration > 0 {
		deadline = time.Now().Add(b.o.duration)
	}
	for i := range b.o.pubs {
		n := b.o.msgs / int64(b.o.pubs)
		if int64(i) < b.o.msgs%int64(b.o.pubs) {
			n++
		}
		wg.Go(func() { b.publisher(ctx, n, deadline) })
	}
	wg.Wait()
}

type sent struct {
	f  *client.PubFuture
	at time.Time
}

// publisher publishes n messages (or until deadline) through its own
// client, asynchronously, and records each one's ack latency.
func (b *benchRun) publisher(ctx context.Context, n int64, deadline time.Time) {
	var opts []client.Option
	if b.o.inFlight > 0 {
		opts = append(opts, client.WithMaxInFlight(b.o.inFlight))
	}
	c, err := b.o.connect(ctx, opts...)
	if err != nil {
		b.fail(err)
		return
	}
	defer c.Close()
	pace := b.pacer()
	pending := make(chan sent, 1<<16)
	acked := make(chan struct{})
	go func() { defer close(acked); b.awaitAcks(ctx, pending) }()
	for i := int64(0); ctx.Err() == nil; i++ {
		if !b.more(i, n, deadline) {
			break
		}
		pace(i)
		p := make([]byte, b.o.size)
		at := time.Now()
		stamp(p, b.id, at)
		pending <- sent{c.PublishAsync(&client.Message{Subject: b.o.subject, Payload: p}), at}
	}
	close(pending)
	<-acked
}

// more reports whether a publisher sends its message i: one of its n, or
// before the deadline (the clock is read every 256 messages unless paced).
func (b *benchRun) more(i, n int64, deadline time.Time) bool {
	if deadline.IsZero() {
		return i < n
	}
	return i%256 != 0 && b.o.rate == 0 || time.Now().Before(deadline)
}

// pacer returns what a publisher calls before its message i: with
// --rate, it waits until the message's turn (each publisher sends its
// share of the rate); without, it returns at once.
func (b *benchRun) pacer() func(i int64) {
	if b.o.rate == 0 {
		return func(int64) {}
	}
	every := time.Duration(float64(time.Second) * float64(b.o.pubs) / float64(b.o.rate))
	start := time.Now()
	return func(i int64) {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
	}
}

func (b *benchRun) awaitAcks(ctx context.Context, pending <-chan sent) {
	for s := range pending {
		if _, err := s.f.Wait(ctx); err != nil {
			b.pubErrs.Add(1)
			b.fail(err)
			continue
		}
		b.pubLat.record(time.Since(s.at))
		b.published.Add(1)
	}
}

// got records one received message of this run.
func (b *benchRun) got(m *client.Message) {
	now := time.Now()
	if t, ok := readStamp(m.Payload, b.id); ok {
		b.e2eLat.record(now.Sub(t))
		b.received.Add(1)
		b.lastRecv.Store(now.UnixNano())
	}
}

// startConsumers starts the consumers; plain subscribers are subscribed
// when it returns.
func (b *benchRun) startConsumers(ctx context.Context, wg *sync.WaitGroup) error {
	for range b.o.subs {
		c, err := b.o.connect(ctx)
		if err != nil {
			return err
		}
		if b.o.plain {
			sub, err := c.Subscribe(ctx, b.o.subject, client.Start{})
			if err != nil {
				c.Close()
				return err
			}
			wg.Go(func() { defer c.Close(); b.subscriber(ctx, sub) })
			continue
		}
		wg.Go(func() {
			defer c.Close()
			err := c.Consume(ctx, b.o.stream, b.o.group, func(_ context.Context, d *client.Delivery) error {
				b.got(&d.Message)
				return nil
			})
			if err != nil && ctx.Err() == nil {
				b.fail(err)
			}
		})
	}
	return nil
}

func (b *benchRun) subscriber(ctx context.Context, sub *client.Subscription) {
	defer sub.Close()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				b.fail(err)
			}
			return
		}
		b.got(m)
	}
}
