package stomp

import (
	"strconv"
	"strings"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// onSend publishes a SEND, or holds it in its transaction. The publish
// is pipelined (PublishAsync keeps the connection's order); the
// confirmer waits for it to be durable before the receipt, and turns a
// failed write into an ERROR.
func (c *conn) onSend(f *Frame) error {
	m, err := c.sendMessage(f)
	if err != nil {
		return err
	}
	if txID, ok := f.Get(hdrTransaction); ok {
		return c.holdSend(txID, m, f)
	}
	receipt, hasReceipt := f.Get(hdrReceipt)
	wait, err := c.s.b.PublishAsync(m, broker.Expect{})
	if err != nil {
		return publishError(err)
	}
	it := confirmItem{wait: wait, receipt: receipt, queue: queueOf(f.Value(hdrDestination))}
	if hasReceipt {
		it.frame = c.receiptFrame(receipt)
	}
	c.queueConfirm(it)
	return nil
}

// queueOf returns the queue a destination names, or "".
func queueOf(dest string) string {
	if q, ok := strings.CutPrefix(dest, prefixQueue); ok {
		return q
	}
	return ""
}

// sendMessage maps a SEND to a message: its destination to a subject
// (making sure a queue exists), its headers to message headers except
// STOMP's own, reply-to to the reply subject and the courier- headers
// to the message's fields.
func (c *conn) sendMessage(f *Frame) (*broker.Message, error) {
	ds, ok := f.Get(hdrDestination)
	if !ok {
		return nil, protoErr("missing destination", "SEND needs a destination header")
	}
	d, err := parseDest(ds, false)
	if err != nil {
		return nil, err
	}
	if d.queue != "" {
		if err := c.ensureQueue(d.queue); err != nil {
			return nil, err
		}
	}
	m := &broker.Message{Subject: d.subject, Payload: f.Body}
	seen := map[string]bool{}
	for _, h := range f.Headers {
		if err := c.sendHeader(m, h, seen); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// sendHeader maps one SEND header onto m.
func (c *conn) sendHeader(m *broker.Message, h Header, seen map[string]bool) error {
	switch h.Key {
	case hdrContentLength, hdrDestination, hdrReceipt, hdrTransaction:
		return nil
	case hdrReplyTo, hdrExpiration, broker.HdrReplyTo, broker.HdrMsgID, broker.HdrTTL, broker.HdrDeliverAt:
		if seen[h.Key] {
			return nil
		}
		seen[h.Key] = true
		return mapReserved(m, h)
	}
	m.Headers = append(m.Headers, broker.Header{Key: h.Key, Value: []byte(h.Value)})
	return nil
}

// mapReserved sets the message field a header stands for.
func mapReserved(m *broker.Message, h Header) error {
	switch h.Key {
	case hdrReplyTo:
		d, err := parseDest(h.Value, false)
		if err != nil {
			return err
		}
		m.ReplyTo = d.subject
	case broker.HdrReplyTo:
		m.ReplyTo = h.Value
	case broker.HdrMsgID:
		m.ID = h.Value
	case hdrExpiration, broker.HdrTTL, broker.HdrDeliverAt:
		ms, err := strconv.ParseInt(h.Value, 10, 64)
		if err != nil || ms < 0 {
			return protoErr("invalid header", "%s %q must be a non-negative integer of milliseconds", h.Key, truncate([]byte(h.Value)))
		}
		if h.Key != broker.HdrDeliverAt {
			m.TTL = time.Duration(ms) * time.Millisecond
		} else {
			m.DeliverAt = time.UnixMilli(ms)
		}
	}
	return nil
}
