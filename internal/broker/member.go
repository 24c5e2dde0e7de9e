package broker

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Member is one consumer in a group. Deliveries arrive on C(); at most
// MaxInFlight are out (in the channel or being processed) at once, which
// is the group's back-pressure.
type Member struct {
	g        *group
	id       int
	max      int
	c        chan *Delivery
	inflight int                 // guarded by g.mu
	pending  map[*entry]struct{} // guarded by g.mu
	backlog  deque               // guarded by g.mu (keyed mode)

	once sync.Once
	done chan struct{}
	err  error
}

// Join adds a member to a group. maxInFlight 0 means the group's.
func (b *Broker) Join(stream, group string, maxInFlight int) (*Member, error) {
	g, err := b.group(stream, group)
	if err != nil {
		return nil, err
	}
	if maxInFlight <= 0 || maxInFlight > g.cfg.MaxInFlight {
		maxInFlight = g.cfg.MaxInFlight
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return nil, fmt.Errorf("%w: %s", ErrGroupNotFound, g.id())
	}
	g.nextID++
	m := &Member{g: g, id: g.nextID, max: maxInFlight, c: make(chan *Delivery, maxInFlight),
		pending: map[*entry]struct{}{}, done: make(chan struct{})}
	g.members = append(g.members, m)
	if g.cfg.Mode == Keyed {
		g.rebalanceLocked()
	}
	g.dispatchLocked()
	return m, nil
}

// C returns the channel deliveries arrive on. It is never closed; select
// on Done as well.
func (m *Member) C() <-chan *Delivery { return m.c }

// Done is closed when the member has left or its group is gone.
func (m *Member) Done() <-chan struct{} { return m.done }

// Err says why the member ended.
func (m *Member) Err() error {
	select {
	case <-m.done:
		return m.err
	default:
		return nil
	}
}

// room reports whether m can take a delivery. The channel is checked too:
// deliveries taken back (ack wait passed, exclusive failover) may still
// sit in it unread, and a send under the group's lock must never block.
func (m *Member) room() bool { return m.inflight < m.max && len(m.c) < cap(m.c) }

func (m *Member) end(err error) {
	m.once.Do(func() {
		m.err = err
		close(m.done)
	})
}

// Leave removes the member. Messages it had not settled go to the other
// members at once (they count as delivered once more).
func (m *Member) Leave() {
	g := m.g
	g.mu.Lock()
	if i := slices.Index(g.members, m); i >= 0 {
		g.members = slices.Delete(g.members, i, i+1)
		g.takeBackLocked(m)
		m.returnBacklogLocked(g)
		if g.cfg.Mode == Keyed {
			g.rebalanceLocked()
		}
		g.dispatchLocked()
	}
	g.mu.Unlock()
	m.end(ErrMemberLeft)
}

// Delivery is a message delivered to a member, to be settled exactly once
// with Ack, Nack, Term or Reject (InProgress may come before). Settling a
// delivery that timed out and was given to another member fails with
// ErrAlreadySettled.
type Delivery struct {
	Message
	g   *group
	e   *entry
	m   *Member
	seq int
}

type settleKind int

const (
	settleAck settleKind = iota
	settleNack
	settleTerm
	settleReject
	settleProgress
)

// Ack settles the message as processed.
func (d *Delivery) Ack() error { return d.settle(settleAck, 0, "") }

// Nack asks for redelivery after delay (0: the group's backoff schedule).
// After MaxDeliveries the message is dead-lettered instead.
func (d *Delivery) Nack(delay time.Duration) error { return d.settle(settleNack, delay, "") }

// Term sends the message straight to the dead-letter subject, with an
// optional error text.
func (d *Delivery) Term(errText string) error { return d.settle(settleTerm, 0, errText) }

// Reject dead-letters the message as rejected (AMQP's reject without
// requeue), with an optional error text.
func (d *Delivery) Reject(errText string) error { return d.settle(settleReject, 0, errText) }

// InProgress restarts the ack wait: the consumer is still working.
func (d *Delivery) InProgress() error { return d.settle(settleProgress, 0, "") }

func (d *Delivery) settle(kind settleKind, delay time.Duration, errText string) error {
	g, e := d.g, d.e
	g.mu.Lock()
	defer g.mu.Unlock()
	if e.seq != d.seq || e.state != stPending || e.member != d.m {
		g.dispatchLocked() // reading it freed a slot in the member's channel
		return fmt.Errorf("%w: %s offset %d", ErrAlreadySettled, d.Stream, d.Offset)
	}
	now := time.Now()
	if kind == settleProgress {
		g.scheduleLocked(e, now.Add(g.cfg.AckWait))
		return nil
	}
	g.undeliverLocked(e)
	switch kind {
	case settleAck:
		g.stats.acked++
		g.finishLocked(e)
	case settleNack:
		g.retryLocked(e, delay, now)
	case settleTerm:
		g.deadLetterLocked(e, ReasonTerminated, errText)
	case settleReject:
		g.deadLetterLocked(e, ReasonRejected, errText)
	}
	g.dispatchLocked()
	return nil
}
