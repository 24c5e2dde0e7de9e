package broker

import (
	"errors"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// read is the reader of one partition: it turns records into entries,
// staying at most MaxPending entries ahead of the settled ones.
func (g *group) read(p *gpart) {
	defer g.wg.Done()
	for {
		next, ok := g.waitSpace(p)
		if !ok {
			return
		}
		l := g.st.partLog(p.idx)
		if l == nil {
			return
		}
		c, err := l.Read(next, 256<<10)
		switch {
		case errors.Is(err, log.ErrOffsetOutOfRange) && next < c.StartOffset:
			g.skipTo(p, c.StartOffset)
		case errors.Is(err, log.ErrClosed):
			waitReopen(g.ctx) // a stream update reopens logs
		case err != nil:
			g.b.lg.Error("group read failed, retrying", "group", g.id(), "partition", p.idx, "offset", next, "err", err)
			retryPause(g.ctx)
		case len(c.Data) == 0:
			l.Wait(g.ctx, next)
		default:
			g.admitChunk(p, next, c)
		}
		if g.ctx.Err() != nil {
			return
		}
	}
}

// waitSpace blocks while the partition is at its read-ahead bound and
// returns where to read next.
func (g *group) waitSpace(p *gpart) (int64, bool) {
	for {
		g.mu.Lock()
		if g.stopped {
			g.mu.Unlock()
			return 0, false
		}
		if p.inMem < g.cfg.MaxPending {
			n := p.next
			g.mu.Unlock()
			return n, true
		}
		ch := g.space
		g.mu.Unlock()
		t := time.NewTimer(sweepEvery)
		select {
		case <-ch:
		case <-t.C:
			g.sweep(p) // blocked a while: look ahead for expired messages
		case <-g.ctx.Done():
			t.Stop()
			return 0, false
		}
		t.Stop()
	}
}

// skipTo moves a cursor that retention overtook to the new start.
func (g *group) skipTo(p *gpart, start int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p.next < start {
		p.next = start
	}
	g.settleRangeLocked(p, p.floor, start)
}

// admitChunk decodes a chunk and admits its records.
func (g *group) admitChunk(p *gpart, from int64, c log.Chunk) {
	msgs, err := chunkView(c.Data, from, g.cfg.Stream, p.idx) // c is the reader's own (chunk.go)
	if err != nil {
		g.b.lg.Error("group read", "group", g.id(), "partition", p.idx, "err", err)
		waitReopen(g.ctx)
		return
	}
	ttl := g.st.defaultTTL()
	g.mu.Lock()
	defer g.mu.Unlock()
	if p.next != from {
		return // moved by skipTo meanwhile
	}
	now := time.Now()
	expect := from
	ch := &chunkRef{entries: make([]*entry, 0, len(msgs))}
	for _, m := range msgs {
		g.settleRangeLocked(p, expect, m.Offset) // compaction gaps
		expect = m.Offset + 1
		g.admitLocked(p, m, ch, now, ttl)
	}
	g.settleRangeLocked(p, expect, c.Next)
	p.next = c.Next
	g.dispatchLocked()
}

// admitLocked turns one message into an entry, unless it is settled
// already or the filter excludes it. The message aliases chunk ch.
func (g *group) admitLocked(p *gpart, m *Message, ch *chunkRef, now time.Time, ttl time.Duration) {
	if m.Offset < p.floor || p.settled[m.Offset] || p.swept[m.Offset] {
		return
	}
	if !g.cfg.matches(m.Subject) { // Filter or Filters: group_filters.go
		g.settleLocked(p, m.Offset, false)
		return
	}
	dlv, rec := restoredDeliveries(p, m.Offset)
	e := &entry{part: p, off: m.Offset, msg: m, deliveries: dlv.n, recorded: rec, hidx: -1}
	ch.pinLocked(e)
	delete(p.dc, m.Offset)
	e.expires = m.expiresAt(ttl)
	if e.expired(now) {
		g.deadLetterLocked(e, ReasonExpired, "")
		return
	}
	if g.cfg.MaxDeliveries > 0 && e.deliveries >= g.cfg.MaxDeliveries {
		// delivered the last time before a restart, never settled
		g.deadLetterLocked(e, ReasonMaxDeliveries, "")
		return
	}
	if m.DeliverAt.After(now) {
		// Delayed entries do not count against the read-ahead bound, so
		// far-future messages cannot stall the ones behind them.
		g.waitLocked(e, stDelayed, m.DeliverAt)
		return
	}
	e.counted = true
	p.inMem++
	if nb := time.UnixMilli(dlv.notBefore); dlv.notBefore > 0 && nb.After(now) {
		if g.holdKeyLocked(e) {
			g.waitLocked(e, stWaiting, nb) // a nack delay or backoff from before a restart
		}
		return
	}
	g.enqueueLocked(e)
}
