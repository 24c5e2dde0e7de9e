package broker

import (
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// A group's reader owns each chunk it reads (log.Read returns a new
// buffer every time), so the messages it admits alias the chunk instead
// of copying their payloads, keys and header values out of it, and share
// one array of Messages per chunk; consecutive messages with one subject
// share its string. A message in memory so keeps its whole chunk alive
// (at least one record batch: up to about 1 MiB from the native API).
// Two rules bound what that costs:
//
//   - a message held for a while (a redelivery backoff, a nack delay, a
//     deliver-at time) is detached first: copied out of its chunk;
//   - once no more than 1/detachRatio of a chunk's entries are unfinished,
//     the rest are detached, so a chunk stays pinned only while a good
//     share of it is still in use.
//
// Deliveries already handed out keep the bytes they were given; they are
// bounded by the members' max in flight.

// detachRatio: the entries left of a chunk detach once they are no more
// than 1/detachRatio of it.
const detachRatio = 8

// chunkRef is one chunk read by a group's reader: the entries admitted
// from it that still alias it. Guarded by the group's mu.
type chunkRef struct {
	entries []*entry
	live    int // entries not finished nor detached
}

// pinLocked records that e aliases ch. Caller holds g.mu.
func (ch *chunkRef) pinLocked(e *entry) {
	e.chunk = ch
	ch.entries = append(ch.entries, e)
	ch.live++
}

// unpinLocked records that e no longer aliases its chunk (it finished or
// was detached), and detaches the chunk's last entries once few are
// left. Caller holds g.mu.
func unpinLocked(e *entry) {
	ch := e.chunk
	if ch == nil {
		return
	}
	e.chunk = nil
	ch.live--
	if ch.live == 0 || ch.live*detachRatio > len(ch.entries) {
		return
	}
	for _, o := range ch.entries {
		if o.chunk == ch {
			o.chunk, o.msg, o.detached = nil, o.msg.detach(), true
		}
	}
	ch.entries, ch.live = nil, 0
}

// detachLocked gives e's message its own bytes, if it has not got them
// yet. Caller holds g.mu.
func detachLocked(e *entry) {
	if e.detached {
		return
	}
	e.msg, e.detached = e.msg.detach(), true
	unpinLocked(e)
}

// chunkView decodes the records of chunk data from offset from into
// messages of stream's partition part that alias data. A chunk holding a
// compressed batch (whose records alias a decompressed copy that the
// decoder may reuse) is copied as fromRecord does.
func chunkView(data []byte, from int64, stream string, part int) ([]*Message, error) {
	if log.Compressed(data) {
		var msgs []*Message
		err := log.DecodeRecords(data, from, func(r log.Record) bool {
			msgs = append(msgs, fromRecord(&r, stream, part))
			return true
		})
		return msgs, err
	}
	n := log.CountRecords(data, from)
	slab := make([]Message, 0, n)
	msgs := make([]*Message, 0, n)
	subj := stream
	err := log.DecodeRecordsSharing(data, from, func(r log.Record) bool {
		if len(slab) == cap(slab) { // never moved: messages point into it
			slab = make([]Message, 0, 16)
		}
		slab = append(slab, Message{Stream: stream, Partition: part, Offset: r.Offset,
			Time: time.UnixMilli(r.Timestamp), Payload: r.Value, Key: r.Key})
		m := &slab[len(slab)-1]
		m.Subject = stream // unless the record has a subject header (Kafka)
		for _, h := range r.Headers {
			switch {
			case h.Key == HdrSubject:
				if string(h.Value) != subj {
					subj = string(h.Value)
				}
				m.Subject = subj
			case !m.reserved(h):
				m.Headers = append(m.Headers, h)
			}
		}
		msgs = append(msgs, m)
		return true
	})
	return msgs, err
}

// detach returns a copy of m with its own copies of the bytes it may
// share (with its read chunk, or with a publisher's buffer).
func (m *Message) detach() *Message {
	c := *m
	c.Key, c.Payload = clone(m.Key), clone(m.Payload)
	if len(m.Headers) > 0 {
		c.Headers = make([]Header, len(m.Headers))
		for i, h := range m.Headers {
			c.Headers[i] = Header{Key: h.Key, Value: clone(h.Value)}
		}
	}
	return &c
}
