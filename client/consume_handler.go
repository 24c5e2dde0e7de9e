package client

import (
	"context"
	"sync"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Consume joins group on stream and runs handler for each delivery, up to
// MaxInFlight at once (default: what the group grants), until ctx ends
// (then it returns nil) or the consumer fails for good. A handler that
// returns nil acks its delivery and one that returns an error nacks it
// (the group's backoff), unless the handler settled it itself. After a
// server restart Consume rejoins and the group redelivers what was not
// acked, so nothing is lost or skipped.
func (c *Client) Consume(ctx context.Context, stream, group string, handler func(context.Context, *Delivery) error, opts ...ConsumeOption) error {
	k, err := c.Join(ctx, stream, group, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil // ended while joining: as documented, not a failure
		}
		return err
	}
	defer k.Close()
	workers := k.o.maxInFlight
	if workers <= 0 {
		workers = k.MaxInFlight()
	}
	workers = min(max(workers, 1), 1024)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- k.work(ctx, handler)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

// work runs handler on deliveries until ctx ends or the consumer fails.
func (k *Consumer) work(ctx context.Context, handler func(context.Context, *Delivery) error) error {
	for {
		d, err := k.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		k.started()
		herr := handler(ctx, d)
		if d.Settled() {
			k.finished(d, nil)
			continue
		}
		// Settle even when ctx just ended: the work is done. The settle
		// is quiet (not waited for): the server reports only failures,
		// which settled logs.
		s := &courierv1.Settle{Action: courierv1.Settle_ACTION_ACK, Quiet: true}
		if herr != nil {
			s.Action = courierv1.Settle_ACTION_NACK
		}
		d.settled.Store(true)
		k.finished(d, s)
	}
}
