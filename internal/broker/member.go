package broker

import (
	"fmt"
	"slices"
	"sync"
)

// Member is one consumer in a group. At most MaxInFlight deliveries are
// out (queued for the member or being processed) at once, which is the
// group's back-pressure. A member is read in one of two ways:
//
//   - C(): a pump goroutine (started by the first call) hands the queued
//     deliveries over one at a time;
//   - Ready() and Take: the caller takes every queued delivery at once,
//     which is what a network front-end that sends them in one frame
//     wants.
//
// Either way deliveries that went stale while queued (their ack wait
// passed, or they were taken back) are dropped, so a slow reader is never
// handed a message that is no longer its own, and a delivery counts from
// the moment it is handed over.
type Member struct {
	g        *group
	id       int
	max      int
	c        chan *Delivery
	wake     chan struct{}
	revoke   chan struct{} // aborts the pump's send of a delivery taken back
	queue    []*Delivery   // guarded by g.mu: delivered, not yet handed over
	sending  *Delivery     // guarded by g.mu: the one the pump is offering
	pumped   chan struct{} // closed when the pump has exited (or will never start)
	pumpOnce sync.Once
	inflight int                 // guarded by g.mu
	pull     bool                // takes deliveries only as asked (Want)
	want     int                 // guarded by g.mu (pull): deliveries asked for
	pending  map[*entry]struct{} // guarded by g.mu
	backlog  deque               // guarded by g.mu (keyed mode)

	once sync.Once
	done chan struct{}
	err  error
}

// Join adds a member to a group. maxInFlight 0 means the group's.
func (b *Broker) Join(stream, group string, maxInFlight int) (*Member, error) {
	return b.join(stream, group, maxInFlight, false)
}

func (b *Broker) join(stream, group string, maxInFlight int, pull bool) (*Member, error) {
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
	m := &Member{g: g, id: g.nextID, max: maxInFlight, pull: pull, c: make(chan *Delivery),
		wake: make(chan struct{}, 1), revoke: make(chan struct{}, 1), pumped: make(chan struct{}), pending: map[*entry]struct{}{}, done: make(chan struct{})}
	g.members = append(g.members, m)
	if g.cfg.Mode == Keyed {
		g.rebalanceLocked()
	}
	g.dispatchLocked()
	return m, nil
}

// C returns the channel deliveries arrive on, one at a time. It is never
// closed; select on Done as well. A member read with C is not read with
// Take.
func (m *Member) C() <-chan *Delivery {
	m.pumpOnce.Do(m.startPump)
	return m.c
}

// startPump starts the goroutine that feeds C, unless the group stopped.
func (m *Member) startPump() {
	g := m.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		close(m.pumped)
		return
	}
	g.wg.Add(1)
	go m.pump()
}

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

// room reports whether m takes another delivery: it has fewer than its
// max in flight out and, for a pull member, fewer queued than it asked
// for. Caller holds g.mu.
func (m *Member) room() bool {
	if m.pull && len(m.queue) >= m.want {
		return false
	}
	return m.inflight < m.max
}

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
	m.pumpOnce.Do(func() { close(m.pumped) }) // C after Leave starts no pump
	<-m.pumped                                // now m.sending is set only if its offer was not taken
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
