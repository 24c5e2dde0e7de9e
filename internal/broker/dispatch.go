package broker

import (
	"slices"
	"time"
)

// enqueueLocked makes a new (or newly due) entry available. In a keyed
// group an entry takes its key's hold before it is ready; if another entry
// holds the key, it waits in the key's queue, so a key has at most one
// message out at a time and keeps its order.
func (g *group) enqueueLocked(e *entry) {
	if g.holdKeyLocked(e) {
		g.readyLocked(e, false)
	}
}

// holdKeyLocked takes e's key hold in a keyed group, or queues e behind
// the entry holding it (and reports false).
func (g *group) holdKeyLocked(e *entry) bool {
	k, ok := e.key()
	if !ok || g.cfg.Mode != Keyed || e.holdsKey {
		return true
	}
	ks := g.keys[k]
	if ks == nil {
		ks = &keyState{}
		g.keys[k] = ks
	}
	if ks.held > 0 {
		e.state = stKeyQueued
		ks.queued.pushBack(e)
		g.expiryLocked(e)
		return false
	}
	ks.held++
	e.holdsKey = true
	return true
}

// readyLocked puts e in the ready queue, at the front for a redelivery.
func (g *group) readyLocked(e *entry, front bool) {
	e.state = stReady
	switch {
	case front && g.front != nil:
		g.front = append(g.front, e) // fire pushes them in order
	case front:
		g.ready.pushFront(e)
	default:
		g.ready.pushBack(e)
	}
	g.expiryLocked(e)
}

// expiryLocked arms the TTL timer of a waiting entry.
func (g *group) expiryLocked(e *entry) {
	if !e.expires.IsZero() {
		g.scheduleLocked(e, e.expires)
	} else {
		g.unscheduleLocked(e)
	}
}

// dispatchLocked delivers ready entries while members have room.
func (g *group) dispatchLocked() {
	if g.stopped {
		return
	}
	g.drainBacklogsLocked()
	for g.ready.len() > 0 {
		e := g.ready.front()
		if e.state != stReady {
			g.ready.popFront()
			continue
		}
		m, park := g.pickLocked(e)
		if m == nil {
			return
		}
		g.ready.popFront()
		if park {
			e.state = stBacklog
			m.backlog.pushBack(e)
			continue
		}
		g.deliverLocked(e, m)
	}
}

// pickLocked chooses the member for e. park means the member (e's key
// owner) is full and e must wait in its backlog.
func (g *group) pickLocked(e *entry) (*Member, bool) {
	if len(g.members) == 0 {
		return nil, false
	}
	switch g.cfg.Mode {
	case Exclusive:
		if m := g.members[0]; m.room() {
			return m, false
		}
		return nil, false
	case Keyed:
		if k, ok := e.key(); ok {
			m := g.ownerLocked(k)
			return m, !m.room()
		}
	}
	for i := range g.members {
		m := g.members[(g.rr+i)%len(g.members)]
		if m.room() {
			g.rr = (g.rr + i + 1) % len(g.members)
			return m, false
		}
	}
	return nil, false
}

// ownerLocked returns the member a key belongs to, by rendezvous hashing:
// keys move only when members join or leave. A key never has two messages
// out at once, so a moved key goes to its new member only after its
// message out with the old one is settled.
func (g *group) ownerLocked(k string) *Member {
	var best *Member
	var bestH uint64
	for _, m := range g.members {
		if h := rendezvous(m.id, k); best == nil || h > bestH {
			best, bestH = m, h
		}
	}
	return best
}

// drainBacklogsLocked delivers from members' backlogs while they have room.
func (g *group) drainBacklogsLocked() {
	for _, m := range g.members {
		for m.backlog.len() > 0 && m.room() {
			e := m.backlog.popFront()
			if e.state == stBacklog {
				g.deliverLocked(e, m)
			}
		}
	}
}

// deliverLocked assigns e to m and queues it for m's pump. It counts as a
// delivery only when the pump hands it over (handedLocked); until then
// the ack wait still runs, so a member that stops reading gives its queue
// back.
func (g *group) deliverLocked(e *entry, m *Member) {
	e.seq++
	e.state, e.member, e.handed = stPending, m, false
	m.inflight++
	m.pending[e] = struct{}{}
	g.scheduleLocked(e, time.Now().Add(g.cfg.AckWait))
	msg := *e.msg
	msg.Deliveries = e.deliveries + 1
	m.push(&Delivery{Message: msg, g: g, e: e, m: m, seq: e.seq})
}

// handedLocked records that the pump handed e's delivery to its member:
// the delivery counts from now, and the ack wait starts again.
func (g *group) handedLocked(e *entry) {
	e.handed = true
	e.deliveries++
	g.stats.delivered++
	if e.deliveries > 1 {
		g.stats.redelivered++
	}
	if e.deliveries == 1 {
		g.saveFirstDelivery(e)
	} else {
		g.saveDeliveries(e, time.Time{})
	}
	g.scheduleLocked(e, time.Now().Add(g.cfg.AckWait))
}

// undeliverLocked takes a pending entry back from its member and reports
// whether the consumer had it: a delivery still queued, or still being
// offered by the pump, is withdrawn and does not count.
func (g *group) undeliverLocked(e *entry) bool {
	m := e.member
	m.inflight--
	delete(m.pending, e)
	if m.sending != nil && m.sending.e == e {
		g.unhandLocked(e)
		select {
		case m.revoke <- struct{}{}:
		default:
		}
	}
	if !e.handed {
		m.queue = slices.DeleteFunc(m.queue, func(d *Delivery) bool { return d.e == e })
	}
	e.member = nil
	g.unscheduleLocked(e)
	return e.handed
}

// unhandLocked takes back the count of a delivery the consumer never took.
func (g *group) unhandLocked(e *entry) {
	if !e.handed {
		return
	}
	e.handed = false
	e.deliveries--
	g.stats.delivered--
	if e.deliveries > 0 {
		g.stats.redelivered--
	}
}

// retryLocked schedules a failed delivery again, or dead-letters it.
func (g *group) retryLocked(e *entry, delay time.Duration, now time.Time) {
	if e.expired(now) { // the more precise reason when both apply
		g.deadLetterLocked(e, ReasonExpired, "")
		return
	}
	if g.cfg.MaxDeliveries > 0 && e.deliveries >= g.cfg.MaxDeliveries {
		g.deadLetterLocked(e, ReasonMaxDeliveries, "")
		return
	}
	if delay <= 0 {
		delay = g.cfg.backoff(e.deliveries)
	}
	if delay <= 0 {
		g.readyLocked(e, true)
		return
	}
	g.waitLocked(e, stWaiting, now.Add(delay))
	g.saveDeliveries(e, now.Add(delay))
}

// finishLocked settles an entry for good.
func (g *group) finishLocked(e *entry) {
	e.state = stDone
	unpinLocked(e)
	g.unscheduleLocked(e)
	if e.counted {
		e.part.inMem--
		if e.part.inMem == g.cfg.MaxPending-1 { // its reader may wait for this
			g.freeSpaceLocked()
		}
	}
	g.releaseKeyLocked(e)
	g.settleLocked(e.part, e.off, true)
	g.forgetDeliveries(e)
}

// releaseKeyLocked lets the next entry of e's key go.
func (g *group) releaseKeyLocked(e *entry) {
	if !e.holdsKey {
		return
	}
	e.holdsKey = false
	k, _ := e.key()
	ks := g.keys[k]
	ks.held--
	for ks.held == 0 && ks.queued.len() > 0 {
		n := ks.queued.popFront()
		if n.state == stKeyQueued {
			ks.held++
			n.holdsKey = true
			g.readyLocked(n, true)
		}
	}
	if ks.held == 0 && ks.queued.len() == 0 {
		delete(g.keys, k)
	}
}

// demoteLocked moves an exclusive group's active member, which stopped
// acknowledging, behind the standbys; its messages go to the next one.
func (g *group) demoteLocked(m *Member) {
	g.members = append(slices.DeleteFunc(g.members, func(x *Member) bool { return x == m }), m)
	g.takeBackLocked(m)
}

// takeBackLocked returns every message out with m to the front of the
// ready queue, in offset order.
func (g *group) takeBackLocked(m *Member) {
	es := make([]*entry, 0, len(m.pending))
	for e := range m.pending {
		es = append(es, e)
	}
	slices.SortFunc(es, byOffset)
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		handed := g.undeliverLocked(e)
		if handed && g.cfg.MaxDeliveries > 0 && e.deliveries >= g.cfg.MaxDeliveries {
			g.deadLetterLocked(e, ReasonMaxDeliveries, "")
			continue
		}
		g.readyLocked(e, true)
	}
}

// rebalanceLocked returns backlogged entries of a keyed group to their
// keys after membership changed, so that owners are chosen again.
func (g *group) rebalanceLocked() {
	for _, m := range g.members {
		m.returnBacklogLocked(g)
	}
}

// returnBacklogLocked gives back entries m was holding for delivery.
func (m *Member) returnBacklogLocked(g *group) {
	es := m.backlog.drain()
	for i := len(es) - 1; i >= 0; i-- {
		if e := es[i]; e.state == stBacklog {
			g.readyLocked(e, true)
		}
	}
}

// rendezvous scores a member for a key (highest random weight hashing).
func rendezvous(member int, key string) uint64 {
	h := uint64(14695981039346656037) ^ uint64(member)*0x9E3779B97F4A7C15
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// byOffset orders entries by partition, then offset.
func byOffset(a, b *entry) int {
	if a.part.idx != b.part.idx {
		return a.part.idx - b.part.idx
	}
	return int(a.off - b.off)
}
