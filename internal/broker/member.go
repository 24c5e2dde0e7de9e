package broker

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Member is one consumer in a group. Deliveries arrive on C(); at most
// MaxInFlight are out (queued for the member or being processed) at once,
// which is the group's back-pressure. A pump goroutine hands the queued
// deliveries over one at a time and drops those that went stale while
// queued (their ack wait passed, or they were taken back), so a slow
// reader is never handed a message that is no longer its own.
type Member struct {
	g        *group
	id       int
	max      int
	c        chan *Delivery
	wake     chan struct{}
	revoke   chan struct{}       // aborts the pump's send of a delivery taken back
	queue    []*Delivery         // guarded by g.mu: delivered, not yet handed over
	sending  *Delivery           // guarded by g.mu: the one the pump is offering
	pumped   chan struct{}       // closed when the pump has exited
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
	m := &Member{g: g, id: g.nextID, max: maxInFlight, c: make(chan *Delivery),
		wake: make(chan struct{}, 1), revoke: make(chan struct{}, 1), pumped: make(chan struct{}), pending: map[*entry]struct{}{}, done: make(chan struct{})}
	g.members = append(g.members, m)
	g.wg.Add(1)
	go m.pump()
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

func (m *Member) room() bool { return m.inflight < m.max }

// push queues a delivery for the pump. Caller holds g.mu.
func (m *Member) push(d *Delivery) {
	m.queue = append(m.queue, d)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// pump hands queued deliveries to the member's channel.
func (m *Member) pump() {
	defer m.g.wg.Done()
	defer close(m.pumped)
	for {
		d := m.next()
		if d == nil {
			select {
			case <-m.wake:
				continue
			case <-m.done:
				return
			case <-m.g.ctx.Done():
				return
			}
		}
		size := int64(msgSize(&d.Message)) // before the consumer owns d
		select {
		case m.c <- d:
			m.taken()
			m.g.st.ctr.addOut(1, size)
		case <-m.revoke:
			m.requeue(d)
		case <-m.done:
			return
		case <-m.g.ctx.Done():
			return
		}
	}
}

// valid reports whether d is still m's current delivery. Caller holds g.mu.
func (m *Member) valid(d *Delivery) bool {
	return d.e.seq == d.seq && d.e.state == stPending && d.e.member == m
}

// taken records that the consumer took the offered delivery (its count
// was taken when the pump picked it).
func (m *Member) taken() {
	m.g.mu.Lock()
	m.sending = nil
	m.g.mu.Unlock()
}

// requeue puts back a delivery whose offer was aborted, unless it is
// stale (the abort may have been meant for an earlier one).
func (m *Member) requeue(d *Delivery) {
	m.g.mu.Lock()
	defer m.g.mu.Unlock()
	m.sending = nil
	if m.valid(d) {
		m.g.unhandLocked(d.e)
		m.queue = append([]*Delivery{d}, m.queue...)
	}
}

// next pops the first delivery that is still the member's, dropping stale
// ones.
func (m *Member) next() *Delivery {
	g := m.g
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(m.queue) > 0 {
		d := m.queue[0]
		m.queue[0] = nil
		m.queue = m.queue[1:]
		if m.valid(d) {
			g.handedLocked(d.e)
			d.Deliveries = d.e.deliveries
			m.sending = d
			return d
		}
	}
	return nil
}

func (m *Member) end(err error) {
	m.once.Do(func() {
		m.err = err
		close(m.done)
	})
}

// Leave removes the member. Messages it had not settled go to the other
// members at once: those it had received count as delivered once more,
// those still queued for it do not.
func (m *Member) Leave() {
	g := m.g
	m.end(ErrMemberLeft)
	<-m.pumped // now m.sending is set only if its offer was not taken
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
	if g.stopped {
		return fmt.Errorf("%w: group %s", g.stopErr, g.id())
	}
	if !d.m.valid(d) {
		return fmt.Errorf("%w: %s offset %d", ErrAlreadySettled, d.Stream, d.Offset)
	}
	if d.m.sending == d {
		d.m.sending = nil // taken: the pump has not recorded it yet
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
