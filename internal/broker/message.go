package broker

import (
	"strconv"
	"strings"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// Header is one message header; headers are ordered and may repeat.
type Header = log.Header

// Reserved header names. The broker sets and reads them; they travel in
// the stored record so that every protocol sees them. A publisher may not
// set them except through the Message fields.
const (
	HeaderPrefix    = "courier-"
	HdrSubject      = "courier-subject"
	HdrMsgID        = "courier-msg-id"
	HdrReplyTo      = "courier-reply-to"
	HdrTTL          = "courier-ttl"        // milliseconds
	HdrDeliverAt    = "courier-deliver-at" // Unix milliseconds
	HdrDLQStream    = "courier-dlq-stream"
	HdrDLQPartition = "courier-dlq-partition"
	HdrDLQOffset    = "courier-dlq-offset"
	HdrDLQSubject   = "courier-dlq-subject"
	HdrDLQGroup     = "courier-dlq-group"
	HdrDLQReason    = "courier-dlq-reason"
	HdrDLQCount     = "courier-dlq-deliveries"
	HdrDLQTime      = "courier-dlq-time" // RFC 3339 with nanoseconds
	HdrDLQError     = "courier-dlq-error"
)

// Message is what is published and delivered.
type Message struct {
	Subject   string
	Key       []byte
	Headers   []Header // application headers, in order
	Payload   []byte
	Time      time.Time     // set by the broker at publish when zero
	ReplyTo   string        // subject for a reply (request/reply)
	ID        string        // de-duplication id within the stream's window
	TTL       time.Duration // 0: the stream's default
	DeliverAt time.Time     // zero: deliver at once

	// Set once stored (zero for a message no stream captured).
	Stream    string
	Partition int
	Offset    int64

	// Set on delivery to a group member: 1 on first delivery.
	Deliveries int
}

// Header returns the value of the first header named k.
func (m *Message) Header(k string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == k {
			return string(h.Value), true
		}
	}
	return "", false
}

// toRecord encodes m for the log; reserved fields become headers.
func (m *Message) toRecord() log.Record {
	hs := m.appendRecordHeaders(make([]Header, 0, m.recordHeaderCount()), []byte(m.Subject))
	return m.record(hs)
}

// record is m as a log record with headers hs (appendRecordHeaders).
func (m *Message) record(hs []Header) log.Record {
	return log.Record{Key: m.Key, Value: m.Payload, Timestamp: m.Time.UnixMilli(), Headers: hs}
}

// recordHeaderCount is how many headers m's record carries.
func (m *Message) recordHeaderCount() int {
	n := 1 + len(m.Headers)
	for _, set := range [...]bool{m.ID != "", m.ReplyTo != "", m.TTL > 0, !m.DeliverAt.IsZero()} {
		if set {
			n++
		}
	}
	return n
}

// appendRecordHeaders appends the headers of m's record to hs: the
// reserved fields (the subject as subj, which the caller may share
// between messages) and then the application's.
func (m *Message) appendRecordHeaders(hs []Header, subj []byte) []Header {
	hs = append(hs, Header{Key: HdrSubject, Value: subj})
	if m.ID != "" {
		hs = append(hs, Header{Key: HdrMsgID, Value: []byte(m.ID)})
	}
	if m.ReplyTo != "" {
		hs = append(hs, Header{Key: HdrReplyTo, Value: []byte(m.ReplyTo)})
	}
	if m.TTL > 0 {
		hs = append(hs, Header{Key: HdrTTL, Value: strconv.AppendInt(nil, m.TTL.Milliseconds(), 10)})
	}
	if !m.DeliverAt.IsZero() {
		// Rounded up to the millisecond: never delivered early.
		ms := (m.DeliverAt.UnixNano() + int64(time.Millisecond) - 1) / int64(time.Millisecond)
		hs = append(hs, Header{Key: HdrDeliverAt, Value: strconv.AppendInt(nil, ms, 10)})
	}
	return append(hs, m.Headers...)
}

// fromRecord decodes a stored record, copying what it keeps. A record
// without a subject header (one produced over Kafka) has the stream's
// name as subject.
func fromRecord(r *log.Record, stream string, part int) *Message {
	m := &Message{Stream: stream, Partition: part, Offset: r.Offset, Subject: stream,
		Time: time.UnixMilli(r.Timestamp), Payload: clone(r.Value)}
	if r.Key != nil {
		m.Key = clone(r.Key)
	}
	for _, h := range r.Headers {
		if !m.reserved(h) {
			m.Headers = append(m.Headers, Header{Key: h.Key, Value: clone(h.Value)})
		}
	}
	return m
}

// reserved takes a reserved header into its field; it reports whether it
// did. DLQ headers stay visible as ordinary headers.
func (m *Message) reserved(h Header) bool {
	switch h.Key {
	case HdrSubject:
		m.Subject = string(h.Value)
	case HdrMsgID:
		m.ID = string(h.Value)
	case HdrReplyTo:
		m.ReplyTo = string(h.Value)
	case HdrTTL:
		ms, _ := strconv.ParseInt(string(h.Value), 10, 64)
		m.TTL = time.Duration(ms) * time.Millisecond
	case HdrDeliverAt:
		ms, _ := strconv.ParseInt(string(h.Value), 10, 64)
		m.DeliverAt = time.UnixMilli(ms)
	default:
		return false
	}
	return true
}

// recordSubject returns the subject of a stored record without decoding
// the rest.
func recordSubject(r *log.Record, stream string) string {
	for _, h := range r.Headers {
		if h.Key == HdrSubject {
			return string(h.Value)
		}
	}
	return stream
}

func recordHeader(r *log.Record, k string) ([]byte, bool) {
	for _, h := range r.Headers {
		if h.Key == k {
			return h.Value, true
		}
	}
	return nil, false
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// hasReserved reports whether an application header uses the reserved
// prefix (DLQ headers excepted, so that redrive and copies keep them).
func hasReserved(hs []Header) (string, bool) {
	for _, h := range hs {
		if strings.HasPrefix(h.Key, HeaderPrefix) && !strings.HasPrefix(h.Key, "courier-dlq-") {
			return h.Key, true
		}
	}
	return "", false
}

// expiresAt returns when a message's TTL runs out (zero: never).
func (m *Message) expiresAt(def time.Duration) time.Time {
	ttl := m.TTL
	if ttl <= 0 {
		ttl = def
	}
	if ttl <= 0 {
		return time.Time{}
	}
	return m.Time.Add(ttl)
}
