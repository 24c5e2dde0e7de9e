package broker

import "time"

// Acks out of order. An offset acked above its partition's floor needs an
// "acked" record, or a restart would deliver it again; but the floor
// usually passes it within milliseconds, and writing the record then
// deleting it would cost two writes per message. So an offset acked
// above the floor is stored only if the floor has not passed it a period
// later (between Options.AckHold and twice that): a crash can forget those
// acks, as it can forget the last deferred writes, and the messages are
// delivered again (at least once). Stopping the group stores them all.

// ackHold is the period (Options.AckHold); negative: no hold.
func (b *Broker) ackHold() time.Duration {
	if b.opts.AckHold == 0 {
		return DefaultAckHold
	}
	return b.opts.AckHold
}

// ackSaver holds a partition's acks above the floor not stored yet.
type ackSaver struct {
	young, old []int64            // acked this period and the last
	stored     map[int64]struct{} // offsets with an "acked" record
	timer      *time.Timer        // runs tick while young or old is not empty
}

// ackLaterLocked records an ack above the floor, to be stored if it is
// still above the floor a period later.
func (g *group) ackLaterLocked(p *gpart, off int64) {
	hold := g.b.ackHold()
	if hold < 0 {
		g.storeAcksLocked(p, []int64{off})
		return
	}
	p.acks.young = append(p.acks.young, off)
	if p.acks.timer == nil {
		p.acks.timer = time.AfterFunc(hold, func() { g.tickAcks(p) })
	}
}

// tickAcks stores last period's acks still above the floor.
func (g *group) tickAcks(p *gpart) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	g.storeAcksLocked(p, p.acks.old)
	p.acks.old, p.acks.young = p.acks.young, p.acks.old[:0]
	if len(p.acks.old) > 0 {
		p.acks.timer.Reset(g.b.ackHold())
	} else {
		p.acks.timer = nil
	}
}

// storeAcksLocked writes the "acked" records of the offsets that are
// still settled above the floor and not stored.
func (g *group) storeAcksLocked(p *gpart, offs []int64) {
	for _, off := range offs {
		if _, ok := p.acks.stored[off]; ok || off < p.floor || !p.settled[off] {
			continue
		}
		g.deferSetNew(g.ackKey(p.idx, off), nil)
		p.acks.stored[off] = struct{}{}
	}
}

// unstoreAckLocked deletes off's "acked" record, if it has one: the floor
// passed it.
func (g *group) unstoreAckLocked(p *gpart, off int64) {
	if _, ok := p.acks.stored[off]; ok {
		delete(p.acks.stored, off)
		g.deferDelete(g.ackKey(p.idx, off))
	}
}

// storeAllAcksLocked stores every pending ack and stops the timers, as
// the group stops.
func (g *group) storeAllAcksLocked() {
	for _, p := range g.parts {
		g.storeAcksLocked(p, p.acks.old)
		g.storeAcksLocked(p, p.acks.young)
		p.acks.old, p.acks.young = nil, nil
		if p.acks.timer != nil {
			p.acks.timer.Stop()
			p.acks.timer = nil
		}
	}
}
