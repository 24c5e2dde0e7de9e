package client

import (
	"context"
	"sync/atomic"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// settle sends s for d and waits for the server's answer.
func (k *Consumer) settle(ctx context.Context, d *Delivery, s *courierv1.Settle) error {
	s.DeliveryId = d.id
	k.mu.Lock()
	conn := k.mu.conn
	if d.gen != k.mu.gen || conn == nil {
		k.mu.Unlock()
		if k.ctx.Err() != nil {
			return errorf(ErrClosed, "consumer closed")
		}
		return errorf(ErrStaleDelivery, "the connection that delivered this message ended; the group delivers it again")
	}
	w := make(chan error, 1)
	k.mu.waiters[d.id] = append(k.mu.waiters[d.id], w)
	k.mu.Unlock()

	k.send(conn, s)
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Delivery is a message given to this member of a group, to be settled
// once with Ack, Nack, Term or Reject (InProgress may come before).
type Delivery struct {
	Message
	k       *Consumer
	id      uint64
	gen     uint64
	settled atomic.Bool
}

// ID returns the delivery's id on its connection.
func (d *Delivery) ID() uint64 { return d.id }

// Settled reports whether Ack, Nack, Term or Reject was called.
func (d *Delivery) Settled() bool { return d.settled.Load() }

func (d *Delivery) finish(ctx context.Context, s *courierv1.Settle) error {
	d.settled.Store(true)
	return d.k.settle(ctx, d, s)
}

// Ack settles the delivery as processed.
func (d *Delivery) Ack(ctx context.Context) error {
	return d.finish(ctx, &courierv1.Settle{Action: courierv1.Settle_ACTION_ACK})
}

// Nack gives the message back to be delivered again after delay (0: the
// group's backoff schedule).
func (d *Delivery) Nack(ctx context.Context, delay time.Duration) error {
	return d.finish(ctx, &courierv1.Settle{Action: courierv1.Settle_ACTION_NACK, Delay: durationOrNil(delay)})
}

// Term dead-letters the message now, recording reason.
func (d *Delivery) Term(ctx context.Context, reason string) error {
	return d.finish(ctx, &courierv1.Settle{Action: courierv1.Settle_ACTION_TERM, Error: reason})
}

// Reject dead-letters the message as rejected, recording reason.
func (d *Delivery) Reject(ctx context.Context, reason string) error {
	return d.finish(ctx, &courierv1.Settle{Action: courierv1.Settle_ACTION_REJECT, Error: reason})
}

// Release gives the message back without counting this delivery (it was
// never worked on): the group delivers it again, first in line, and it
// does not count toward the group's max deliveries.
func (d *Delivery) Release(ctx context.Context) error {
	return d.finish(ctx, &courierv1.Settle{Action: courierv1.Settle_ACTION_RELEASE})
}

// InProgress says the message is still being worked on: its ack wait
// starts again.
func (d *Delivery) InProgress(ctx context.Context) error {
	return d.k.settle(ctx, d, &courierv1.Settle{Action: courierv1.Settle_ACTION_IN_PROGRESS})
}
