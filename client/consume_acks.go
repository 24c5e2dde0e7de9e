package client

import (
	"sync"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Consume's own settles (the ack or nack after a handler returns) are
// quiet, not waited for, and batched: they are held while the consumer
// still has deliveries in hand (queued or in a handler), and go out when
// it has none left, when a quarter of its max in flight is held (the
// server then has that many to deliver in one frame), or after ackLinger. A
// consumer with one message at a time so sends each settle at once, and a
// busy one sends one Settle naming many deliveries instead of one per
// delivery.

// ackLinger bounds how long a settle is held.
const ackLinger = time.Millisecond

// ackBatcher holds Consume's settles.
type ackBatcher struct {
	mu      sync.Mutex
	running int // handlers running
	held    []queuedSettle
	timer   *time.Timer
}

// started counts a handler that took a delivery.
func (k *Consumer) started() {
	k.acks.mu.Lock()
	k.acks.running++
	k.acks.mu.Unlock()
}

// finished records the settle s (nil: the handler settled d itself) of a
// handler's delivery d, and sends the held settles if it is time.
func (k *Consumer) finished(d *Delivery, s *courierv1.Settle) {
	k.mu.Lock()
	conn := k.mu.conn
	stale := d.gen != k.mu.gen || conn == nil // the group delivers it again
	queued, batch := len(k.mu.queue), max(1, k.mu.maxInFlight/4)
	k.mu.Unlock()

	k.acks.mu.Lock()
	k.acks.running--
	if s != nil && !stale {
		s.DeliveryId = d.id
		k.acks.held = append(k.acks.held, queuedSettle{conn, s})
	}
	if len(k.acks.held) == 0 {
		k.acks.mu.Unlock()
		return
	}
	if k.acks.running > 0 || queued > 0 {
		if len(k.acks.held) < batch {
			if k.acks.timer == nil {
				k.acks.timer = time.AfterFunc(ackLinger, k.flushAcks)
			}
			k.acks.mu.Unlock()
			return
		}
	}
	held := k.takeHeldLocked()
	k.acks.mu.Unlock()
	k.sendAll(held...)
}

// flushAcks sends the held settles.
func (k *Consumer) flushAcks() {
	k.acks.mu.Lock()
	held := k.takeHeldLocked()
	k.acks.mu.Unlock()
	if len(held) > 0 {
		k.sendAll(held...)
	}
}

// takeHeldLocked takes the held settles and stops the timer. Caller
// holds k.acks.mu.
func (k *Consumer) takeHeldLocked() []queuedSettle {
	held := k.acks.held
	k.acks.held = nil
	if k.acks.timer != nil {
		k.acks.timer.Stop()
		k.acks.timer = nil
	}
	return held
}
