package broker

import (
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// A group's reader owns each chunk it reads (log.Read returns a new
// buffer every time), so the messages it admits alias the chunk instead
// of copying their payloads, keys and header values out of it, and share
// one array of Messages per chunk; consecutive messages with one subject
// share its string. A message in memory so keeps its chunk (at most the
// reader's read size, 256 KiB) alive. For the messages held for a while
// (a redelivery backoff, a nack delay, a deliver-at time) that could add
// up, so they are detached first: copied out of the chunk (detach).

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
	err := log.DecodeRecords(data, from, func(r log.Record) bool {
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
