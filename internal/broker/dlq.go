package broker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// Dead-letter reasons, in the HdrDLQReason header.
const (
	ReasonMaxDeliveries = "max-deliveries"
	ReasonTerminated    = "terminated"
	ReasonExpired       = "expired"
	ReasonRejected      = "rejected"
)

// deadLetterLocked queues e for the group's dead-letter subject; the
// group's dead-letter goroutine publishes the letters one at a time, in
// the order they were queued, and settles each once it is durable.
// Without a dead-letter subject the message is dropped (settled).
func (g *group) deadLetterLocked(e *entry, reason, errText string) {
	g.unscheduleLocked(e)
	if g.cfg.DeadLetter == "" {
		g.stats.deadLettered++
		g.finishLocked(e)
		return
	}
	e.state = stDLQ
	g.letters = append(g.letters, letter{e: e, msg: g.dlqMessage(e, reason, errText, time.Now())})
	select {
	case g.dlqWake <- struct{}{}:
	default:
	}
}

// letter is a dead letter waiting to be published.
type letter struct {
	e   *entry
	msg *Message
}

// deadLetters publishes queued letters in order. A failed publish is
// retried after a second, holding the letters behind it.
func (g *group) deadLetters() {
	defer g.wg.Done()
	for {
		g.mu.Lock()
		var l letter
		if len(g.letters) > 0 {
			l = g.letters[0]
		}
		g.mu.Unlock()
		if l.e == nil {
			select {
			case <-g.dlqWake:
				continue
			case <-g.ctx.Done():
				return
			}
		}
		_, err := g.b.Publish(g.ctx, l.msg, Expect{})
		if err != nil && g.ctx.Err() == nil {
			g.b.lg.Warn("dead letter failed, will retry", "group", g.id(), "offset", l.e.off, "err", err)
			retryPause(g.ctx)
			continue
		}
		g.mu.Lock()
		g.letters = g.letters[1:]
		if err == nil && l.e.state == stDLQ && !g.stopped {
			g.stats.deadLettered++
			g.finishLocked(l.e)
			g.dispatchLocked()
		}
		g.mu.Unlock()
	}
}

// dlqMessage builds the dead letter of e: the original key, payload and
// headers, plus headers naming where it came from and why.
func (g *group) dlqMessage(e *entry, reason, errText string, now time.Time) *Message {
	m := e.msg
	hs := append([]Header(nil), m.Headers...)
	add := func(k, v string) { hs = append(hs, Header{Key: k, Value: []byte(v)}) }
	add(HdrDLQStream, m.Stream)
	add(HdrDLQPartition, strconv.Itoa(m.Partition))
	add(HdrDLQOffset, strconv.FormatInt(m.Offset, 10))
	add(HdrDLQSubject, m.Subject)
	add(HdrDLQGroup, g.cfg.Name)
	add(HdrDLQReason, reason)
	add(HdrDLQCount, strconv.Itoa(e.deliveries))
	add(HdrDLQTime, now.UTC().Format(time.RFC3339Nano))
	if errText != "" {
		add(HdrDLQError, errText)
	}
	return &Message{Subject: g.cfg.DeadLetter, Key: m.Key, Payload: m.Payload, Headers: hs,
		ReplyTo: m.ReplyTo, Time: now}
}

// RedriveResult reports a redrive.
type RedriveResult struct {
	Moved   int
	Skipped int // not dead letters, or no stream captures their subject
}

// Redrive publishes the dead letters stored in a stream's partition, from
// offset from up to (not including) to (-1: the end), back to their
// original subjects, without the dead-letter headers. A letter whose
// subject no stream captures is skipped (it would reach live subscribers
// only), as is a message without dead-letter headers. Then, if the range
// began at the partition's start, the start moves up to the first skipped
// letter, and the letters moved after that one are removed, so that
// redriven letters leave the dead-letter stream and a second redrive does
// not send them again.
func (b *Broker) Redrive(ctx context.Context, stream string, part int, from, to int64) (RedriveResult, error) {
	var res RedriveResult
	s, err := b.stream(stream)
	if err != nil {
		return res, err
	}
	l := s.partLog(part)
	if l == nil {
		return res, invalid("stream %s has no partition %d", stream, part)
	}
	start, hw := l.StartOffset(), l.HighWatermark()
	if to < 0 || to > hw {
		to = hw
	}
	from = max(from, start)
	var letters []*Message
	err = scanLog(l, from, func(r *log.Record) {
		if r.Offset < to {
			letters = append(letters, fromRecord(r, stream, part))
		}
	})
	if err != nil {
		return res, err
	}
	keep := to // the first letter that stays in the stream
	moved := map[int64]bool{}
	for _, m := range letters {
		orig, ok := undead(m)
		if ok && !b.captured(orig.Subject) {
			ok = false // would reach live subscribers only, then be gone
		}
		if !ok {
			res.Skipped++
			keep = min(keep, m.Offset)
			continue
		}
		if _, err := b.Publish(ctx, orig, Expect{}); err != nil {
			return res, fmt.Errorf("redrive offset %d: %w", m.Offset, err)
		}
		res.Moved++
		moved[m.Offset] = true
	}
	if from == start && keep > from {
		err = l.AdvanceStart(keep)
	}
	if err == nil && hasAbove(moved, keep) { // moved letters behind one that stays
		_, err = l.Remove(ctx, func(r *log.Record) bool { return r.Offset >= keep && moved[r.Offset] })
	}
	return res, err
}

func hasAbove(set map[int64]bool, off int64) bool {
	for o := range set {
		if o >= off {
			return true
		}
	}
	return false
}

func (b *Broker) captured(subj string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.capturing(subj) != nil
}

// undead turns a dead letter back into its original message.
func undead(m *Message) (*Message, bool) {
	subj, ok := m.Header(HdrDLQSubject)
	if !ok {
		return nil, false
	}
	out := &Message{Subject: subj, Key: m.Key, Payload: m.Payload, ReplyTo: m.ReplyTo}
	for _, h := range m.Headers {
		if len(h.Key) < len("courier-dlq-") || h.Key[:len("courier-dlq-")] != "courier-dlq-" {
			out.Headers = append(out.Headers, h)
		}
	}
	return out, true
}
