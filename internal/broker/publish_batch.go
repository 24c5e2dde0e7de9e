package broker

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/courier-mq/courier/internal/subject"
)

// Publish is one message of PublishBatchAsync with its expectations.
type Publish struct {
	Msg *Message
	Exp Expect
}

// Publishing is the outcome of one message of PublishBatchAsync: Err says
// why it failed at once; otherwise Wait returns its ack once durable.
type Publishing struct {
	Err     error
	ack     PubAck
	durable *batchWait                            // the record batch's wait, shared by its messages
	alone   func(context.Context) (PubAck, error) // a message published on its own
}

// Wait returns the message's ack once it is durable, or why it failed.
// It may be called more than once.
func (p *Publishing) Wait(ctx context.Context) (PubAck, error) {
	switch {
	case p.Err != nil:
		return PubAck{}, p.Err
	case p.alone != nil:
		return p.alone(ctx)
	case p.durable == nil:
		return PubAck{}, fmt.Errorf("%w: no outcome for this message", ErrInvalid)
	}
	if err := p.durable.wait(ctx); err != nil {
		return PubAck{}, logError(err)
	}
	return p.ack, nil
}

// batchWait is the wait of one record batch, shared by its messages; once
// the batch is durable, waiting costs a load.
type batchWait struct {
	durable atomic.Bool
	w       func(context.Context) error
}

func (b *batchWait) wait(ctx context.Context) error {
	if b.durable.Load() {
		return nil
	}
	err := b.w(ctx)
	if err == nil {
		b.durable.Store(true)
	}
	return err
}

// batchRunLimit bounds the records and bytes of one shared record batch.
const (
	batchRunRecords = 1024
	batchRunBytes   = 1 << 20
)

// PublishBatchAsync is PublishAsync for many messages, in order: the
// result i is message i's. Consecutive messages bound for the same
// partition that carry no id and no expectations share one record batch
// (one encoding, one checksum, one place in the commit queue); the others
// are published one by one as PublishAsync does. Messages are stored in
// the order given.
//
// The batch counts as arriving at one instant: messages without a time
// share one timestamp, and a subject's stream and partition are looked up
// once per run of keyless messages with that subject. PublishBatchAsync
// keeps no reference to a Message or its bytes once it returns (a message
// published alone, which live subscribers may keep, is copied with its
// bytes), so callers may reuse both.
func (b *Broker) PublishBatchAsync(pubs []Publish) []Publishing {
	return b.PublishBatchAsyncTo(nil, pubs)
}

// PublishBatchAsyncTo is PublishBatchAsync writing the results to out
// (reused when it has room, else a new slice), which it returns.
func (b *Broker) PublishBatchAsyncTo(out []Publishing, pubs []Publish) []Publishing {
	if cap(out) < len(pubs) {
		out = make([]Publishing, len(pubs))
	}
	out = out[:len(pubs)]
	clear(out)
	bp := batchPublisher{b: b, out: out, r: getRun()}
	defer putRun(bp.r)
	for i, pb := range pubs {
		bp.add(i, pb)
	}
	bp.r.flush(bp.out)
	return bp.out
}

// batchPublisher is one PublishBatchAsync call: the run being built and
// what it remembers of the message before (its subject was valid, and
// where it went).
type batchPublisher struct {
	b     *Broker
	out   []Publishing
	r     *run
	now   time.Time // stamped on messages without a time; set at first need
	valid string    // the last subject found valid
	route struct {  // where the last keyless message went
		subject string
		p       *partition
	}
}

func (bp *batchPublisher) add(i int, pb Publish) {
	m := pb.Msg
	if pb.Exp.LastOffset != nil || pb.Exp.LastSubjectOffset != nil || m.ID != "" {
		bp.alone(i, pb)
		return
	}
	if err := bp.validate(m); err != nil {
		bp.out[i].Err = err
		return
	}
	bp.stamp(m)
	p, err := bp.partition(m)
	switch {
	case err != nil:
		bp.out[i].Err = err
		return
	case p == nil:
		bp.alone(i, pb) // closed or uncaptured: as PublishAsync says
		return
	}
	r := bp.r
	if r.p != p || len(r.msgs) == batchRunRecords || r.bytes+msgSize(m) > batchRunBytes {
		r.flush(bp.out)
		r.p = p
	}
	r.add(i, m)
}

// alone publishes one message as PublishAsync does, after the run before
// it. The message is copied with its bytes: live subscribers may keep it,
// and the caller's bytes may be part of a larger buffer.
func (bp *batchPublisher) alone(i int, pb Publish) {
	bp.r.flush(bp.out)
	bp.out[i].alone, bp.out[i].Err = bp.b.PublishAsync(pb.Msg.detach(), pb.Exp)
}

// validate is validateMessage, checking a subject only when it differs
// from the last valid one.
func (bp *batchPublisher) validate(m *Message) error {
	if m.Subject != bp.valid {
		if err := subject.ValidateSubject(m.Subject); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		bp.valid = m.Subject
	}
	return validateFields(m)
}

// stamp sets m's time, as PublishAsync does, to the batch's instant.
func (bp *batchPublisher) stamp(m *Message) {
	if m.Time.IsZero() {
		if bp.now.IsZero() {
			bp.now = time.Now()
		}
		m.Time = bp.now
	}
	m.Time = m.Time.Truncate(time.Millisecond)
}

// partition returns the partition m goes to (nil: no stream captures it,
// or the broker is closed), or why the stream refuses m.
func (bp *batchPublisher) partition(m *Message) (*partition, error) {
	if m.Key == nil && bp.route.p != nil && m.Subject == bp.route.subject {
		p := bp.route.p
		p.s.mu.RLock()
		defer p.s.mu.RUnlock()
		return p, p.admit(m)
	}
	p, err := bp.b.partitionOf(m)
	if err == nil && p != nil && m.Key == nil {
		bp.route.subject, bp.route.p = m.Subject, p
	}
	return p, err
}

// partitionOf returns the partition m goes to, or nil when no stream
// captures it; a message a stream would refuse gives its error.
func (b *Broker) partitionOf(m *Message) (*partition, error) {
	b.mu.RLock()
	closed, s := b.closed, b.capturing(m.Subject)
	b.mu.RUnlock()
	if closed || s == nil {
		return nil, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.parts[s.partitionFor(m)]
	return p, p.admit(m)
}

// admit says why p's stream refuses m, if it does. Caller holds p.s.mu
// (read).
func (p *partition) admit(m *Message) error {
	s := p.s
	if n := msgSize(m); n > s.cfg.MaxMsgSize {
		return fmt.Errorf("%w: %d bytes, stream %s allows %d", ErrTooLarge, n, s.cfg.Name, s.cfg.MaxMsgSize)
	}
	if p.full() {
		return fmt.Errorf("%w: stream %s partition %d is at its limit", ErrStreamFull, s.cfg.Name, p.idx)
	}
	return nil
}
