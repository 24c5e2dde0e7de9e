package broker

import (
	"fmt"
	"time"
)

// Delivery is a message delivered to a member, to be settled exactly once
// with Ack, Nack, Term, Reject or Release (InProgress may come before).
// Settling a delivery that timed out and was given to another member
// fails with ErrAlreadySettled.
type Delivery struct {
	Message
	g   *group
	e   *entry
	m   *Member
	seq int
}

// Outcome is how a delivery is settled.
type Outcome int

const (
	// OutcomeAck: processed.
	OutcomeAck Outcome = iota
	// OutcomeNack: deliver again after a delay (0: the group's backoff);
	// after MaxDeliveries the message is dead-lettered instead.
	OutcomeNack
	// OutcomeTerm: dead-letter now (terminated).
	OutcomeTerm
	// OutcomeReject: dead-letter now (rejected, AMQP's reject without
	// requeue).
	OutcomeReject
	// OutcomeProgress: still being worked on; the ack wait starts again.
	OutcomeProgress
	// OutcomeRelease: never shown to the application (AMQP 1.0's
	// released): the message goes back to the front of the group and
	// this delivery does not count toward MaxDeliveries.
	OutcomeRelease
)

// Settlement is an outcome with its details.
type Settlement struct {
	Outcome Outcome
	Delay   time.Duration // OutcomeNack
	Error   string        // OutcomeTerm, OutcomeReject
}

// Ack settles the message as processed.
func (d *Delivery) Ack() error { return d.Settle(Settlement{Outcome: OutcomeAck}) }

// Nack asks for redelivery after delay (0: the group's backoff schedule).
// After MaxDeliveries the message is dead-lettered instead.
func (d *Delivery) Nack(delay time.Duration) error {
	return d.Settle(Settlement{Outcome: OutcomeNack, Delay: delay})
}

// Term sends the message straight to the dead-letter subject, with an
// optional error text.
func (d *Delivery) Term(errText string) error {
	return d.Settle(Settlement{Outcome: OutcomeTerm, Error: errText})
}

// Reject dead-letters the message as rejected (AMQP's reject without
// requeue), with an optional error text.
func (d *Delivery) Reject(errText string) error {
	return d.Settle(Settlement{Outcome: OutcomeReject, Error: errText})
}

// InProgress restarts the ack wait: the consumer is still working.
func (d *Delivery) InProgress() error { return d.Settle(Settlement{Outcome: OutcomeProgress}) }

// Release gives the message back without counting this delivery: the
// consumer never showed it to the application.
func (d *Delivery) Release() error { return d.Settle(Settlement{Outcome: OutcomeRelease}) }

// Settle applies s to d.
func (d *Delivery) Settle(s Settlement) error {
	g := d.g
	g.mu.Lock()
	defer g.mu.Unlock()
	err := d.settleLocked(s, time.Now())
	if err == nil && s.Outcome != OutcomeProgress {
		g.dispatchLocked()
	}
	return err
}

// SettleAll applies s to each delivery, with the group locked once per
// run of deliveries of the same group, and returns each one's error
// (nil slice when all succeeded).
func SettleAll(ds []*Delivery, s Settlement) []error {
	var errs []error
	now := time.Now()
	for i := 0; i < len(ds); {
		g := ds[i].g
		g.mu.Lock()
		dispatch := false
		for ; i < len(ds) && ds[i].g == g; i++ {
			if err := ds[i].settleLocked(s, now); err != nil {
				if errs == nil {
					errs = make([]error, len(ds))
				}
				errs[i] = err
				continue
			}
			dispatch = dispatch || s.Outcome != OutcomeProgress
		}
		if dispatch {
			g.dispatchLocked()
		}
		g.mu.Unlock()
	}
	return errs
}

// settleLocked applies s without dispatching. Caller holds g.mu.
func (d *Delivery) settleLocked(s Settlement, now time.Time) error {
	g, e := d.g, d.e
	if g.stopped {
		return fmt.Errorf("%w: group %s", g.stopErr, g.id())
	}
	if s.Outcome < OutcomeAck || s.Outcome > OutcomeRelease {
		return invalid("settle outcome %d", s.Outcome)
	}
	if !d.m.valid(d) {
		return fmt.Errorf("%w: %s offset %d", ErrAlreadySettled, d.Stream, d.Offset)
	}
	if d.m.sending == d {
		d.m.sending = nil // taken: the pump has not recorded it yet
	}
	if s.Outcome == OutcomeProgress {
		g.scheduleLocked(e, now.Add(g.cfg.AckWait))
		return nil
	}
	g.undeliverLocked(e)
	switch s.Outcome {
	case OutcomeAck:
		g.stats.acked++
		g.finishLocked(e)
	case OutcomeNack:
		g.retryLocked(e, s.Delay, now)
	case OutcomeTerm:
		g.deadLetterLocked(e, ReasonTerminated, s.Error)
	case OutcomeReject:
		g.deadLetterLocked(e, ReasonRejected, s.Error)
	case OutcomeRelease:
		g.releaseLocked(e)
	}
	return nil
}

// releaseLocked takes back the count of a delivery never shown and puts
// the entry at the front of the ready queue.
func (g *group) releaseLocked(e *entry) {
	g.unhandLocked(e)
	switch {
	case e.deliveries > 1 || e.recorded && e.deliveries > 0:
		g.saveDeliveries(e, time.Time{})
	case e.deliveries == 0:
		g.forgetDeliveries(e)
	}
	g.readyLocked(e, true)
}
