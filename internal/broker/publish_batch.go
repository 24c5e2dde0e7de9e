package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// Publish is one message of PublishBatchAsync with its expectations.
type Publish struct {
	Msg *Message
	Exp Expect
}

// Publishing is the outcome of one message of PublishBatchAsync: Wait
// returns its ack once durable, or Err says why it failed at once.
type Publishing struct {
	Wait func(context.Context) (PubAck, error)
	Err  error
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
func (b *Broker) PublishBatchAsync(pubs []Publish) []Publishing {
	out := make([]Publishing, len(pubs))
	var r run
	for i, pb := range pubs {
		m := pb.Msg
		if pb.Exp.LastOffset != nil || pb.Exp.LastSubjectOffset != nil || m.ID != "" {
			r.flush(out)
			out[i].Wait, out[i].Err = b.PublishAsync(m, pb.Exp)
			continue
		}
		if err := validateMessage(m); err != nil {
			out[i].Err = err
			continue
		}
		if m.Time.IsZero() {
			m.Time = time.Now()
		}
		m.Time = m.Time.Truncate(time.Millisecond)
		p, err := b.partitionOf(m)
		if err != nil || p == nil {
			r.flush(out)
			out[i].Wait, out[i].Err = b.PublishAsync(m, pb.Exp) // closed, uncaptured or refused: as one
			continue
		}
		if r.p != p || len(r.idx) == batchRunRecords || r.bytes+msgSize(m) > batchRunBytes {
			r.flush(out)
			r.p = p
		}
		r.add(i, m)
	}
	r.flush(out)
	return out
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
	if n := msgSize(m); n > s.cfg.MaxMsgSize {
		return nil, fmt.Errorf("%w: %d bytes, stream %s allows %d", ErrTooLarge, n, s.cfg.Name, s.cfg.MaxMsgSize)
	}
	p := s.parts[s.partitionFor(m)]
	if p.full() {
		return nil, fmt.Errorf("%w: stream %s partition %d is at its limit", ErrStreamFull, s.cfg.Name, p.idx)
	}
	return p, nil
}

// run is consecutive messages for one partition that share a batch.
type run struct {
	p     *partition
	idx   []int // their places in the results
	msgs  []*Message
	bytes int
}

func (r *run) add(i int, m *Message) {
	r.idx = append(r.idx, i)
	r.msgs = append(r.msgs, m)
	r.bytes += msgSize(m)
}

// flush appends the run as one record batch and fills its results.
func (r *run) flush(out []Publishing) {
	if len(r.msgs) == 0 {
		return
	}
	p, msgs, idx := r.p, r.msgs, r.idx
	r.p, r.msgs, r.idx, r.bytes = nil, nil, nil, 0
	recs := make([]log.Record, len(msgs))
	for j, m := range msgs {
		recs[j] = m.toRecord()
	}
	p.s.mu.RLock()
	base, wait, err := p.log.AppendIfAsync(recs, func(base int64) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		for j, m := range msgs {
			p.last[m.Subject] = base + int64(j)
		}
		return nil
	})
	p.s.mu.RUnlock()
	if err != nil {
		err = logError(err)
		for _, i := range idx {
			out[i].Err = err
		}
		return
	}
	var bytes int64
	for j, i := range idx {
		ack := PubAck{Stream: p.s.cfg.Name, Partition: p.idx, Offset: base + int64(j)}
		out[i].Wait = func(ctx context.Context) (PubAck, error) { return ack, logError(wait(ctx)) }
		bytes += int64(msgSize(msgs[j]))
	}
	p.s.ctr.addIn(int64(len(msgs)), bytes)
}
