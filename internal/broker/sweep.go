package broker

import (
	"errors"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// The read-ahead bound (MaxPending) keeps a group from holding a whole
// backlog in memory, but a message's TTL must be acted on even when the
// group is far behind it. When a partition's reader has been blocked at
// the bound for sweepEvery, it sweeps: it reads up to sweepBytes of the
// log beyond what it admitted, from where the last sweep stopped (going
// round to the reader's position at the end), and dead-letters the
// messages whose TTL has passed. They are marked swept so that the reader
// skips them when it gets there. An expired message is so handled within
// (backlog beyond the bound / sweepBytes) × sweepEvery.
const (
	sweepEvery = time.Second
	sweepBytes = 4 << 20
)

// sweep runs one sweep step for p.
func (g *group) sweep(p *gpart) {
	g.mu.Lock()
	from := max(p.sweepAt, p.next)
	g.mu.Unlock()
	l := g.st.partLog(p.idx)
	if l == nil {
		return
	}
	ttl, now := g.st.defaultTTL(), time.Now()
	var found []*Message
	next, read := from, 0
	for read < sweepBytes {
		c, err := l.Read(next, 1<<20)
		if err != nil || len(c.Data) == 0 {
			if errors.Is(err, log.ErrOffsetOutOfRange) || len(c.Data) == 0 {
				next = -1 // end of the log: start again behind the reader
			}
			break
		}
		read += len(c.Data)
		log.DecodeRecords(c.Data, next, func(r log.Record) bool {
			if exp := expiryOf(&r, ttl); !exp.IsZero() && !now.Before(exp) {
				found = append(found, fromRecord(&r, g.cfg.Stream, p.idx))
			}
			return true
		})
		next = c.Next
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p.sweepAt = next
	for _, m := range found {
		g.sweptLocked(p, m)
	}
}

// sweptLocked dead-letters one expired message found ahead of the reader.
func (g *group) sweptLocked(p *gpart, m *Message) {
	if m.Offset < p.next || p.settled[m.Offset] || p.swept[m.Offset] {
		return // the reader has it, or it is settled already
	}
	if !g.cfg.matches(m.Subject) { // Filter or Filters: group_filters.go
		return
	}
	dlv, rec := restoredDeliveries(p, m.Offset)
	e := &entry{part: p, off: m.Offset, msg: m, deliveries: dlv.n, recorded: rec, hidx: -1}
	p.swept[m.Offset] = true
	g.deadLetterLocked(e, ReasonExpired, "")
}

// expiryOf reads a stored record's expiry without decoding all of it.
func expiryOf(r *log.Record, def time.Duration) time.Time {
	m := Message{Time: time.UnixMilli(r.Timestamp)}
	if v, ok := recordHeader(r, HdrTTL); ok {
		m.reserved(Header{Key: HdrTTL, Value: v})
	}
	return m.expiresAt(def)
}
