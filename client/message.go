package client

import (
	"fmt"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Header is one message header. Headers are ordered and may repeat; a
// value may hold any bytes.
type Header struct{ Key, Value string }

// Message is what is published and delivered. The Key and Payload of a
// message received in a batch may share one array with the batch's other
// messages (each holds only its own bytes): copy them to keep them long
// without keeping the rest.
type Message struct {
	Subject string
	Key     []byte // optional: picks the partition, and the member of a keyed group
	Headers []Header
	Payload []byte
	Time    time.Time // set by the server at publish when zero

	ReplyTo   string        // subject a reply should go to
	ID        string        // de-duplication id within the stream's window
	TTL       time.Duration // 0: the stream's default
	DeliverAt time.Time     // deliver no earlier than this; zero: at once

	// Set once stored (Stream is empty for a message no stream captured).
	Stream    string
	Partition int
	Offset    int64
	// Set on delivery to a group member: 1 on the first delivery.
	Deliveries int
}

// Header returns the first value of header k.
func (m *Message) Header(k string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == k {
			return h.Value, true
		}
	}
	return "", false
}

func (m *Message) toProto() *courierv1.Message {
	p := &courierv1.Message{
		Subject: m.Subject, Key: m.Key, Payload: m.Payload,
		ReplyTo: m.ReplyTo, Id: m.ID,
	}
	if len(m.Headers) > 0 {
		p.Headers = make([]*courierv1.Header, len(m.Headers))
		for i, h := range m.Headers {
			p.Headers[i] = headerToProto(h)
		}
	}
	if !m.Time.IsZero() {
		p.Time = timestamppb.New(m.Time)
	}
	if m.TTL > 0 {
		p.Ttl = durationpb.New(m.TTL)
	}
	if !m.DeliverAt.IsZero() {
		p.DeliverAt = timestamppb.New(m.DeliverAt)
	}
	return p
}

func headerToProto(h Header) *courierv1.Header {
	if utf8.ValidString(h.Value) {
		return &courierv1.Header{Key: h.Key, Value: h.Value}
	}
	return &courierv1.Header{Key: h.Key, BinaryValue: []byte(h.Value)}
}

func messageFromProto(p *courierv1.Message) *Message {
	if p == nil {
		return nil
	}
	m := &Message{
		Subject: p.GetSubject(), Key: p.GetKey(), Payload: p.GetPayload(),
		ReplyTo: p.GetReplyTo(), ID: p.GetId(),
		Stream: p.GetStream(), Partition: int(p.GetPartition()), Offset: p.GetOffset(),
		Deliveries: int(p.GetDeliveries()),
	}
	if len(p.GetHeaders()) > 0 {
		m.Headers = make([]Header, len(p.GetHeaders()))
		for i, h := range p.GetHeaders() {
			m.Headers[i] = Header{Key: h.GetKey(), Value: h.GetValue()}
			if h.BinaryValue != nil {
				m.Headers[i].Value = string(h.GetBinaryValue())
			}
		}
	}
	if p.Time != nil {
		m.Time = p.GetTime().AsTime()
	}
	if p.Ttl != nil {
		m.TTL = p.GetTtl().AsDuration()
	}
	if p.DeliverAt != nil {
		m.DeliverAt = p.GetDeliverAt().AsTime()
	}
	return m
}

// Start is a position in a stream. The zero value means the call's
// default: live only for Subscribe, the group's start for a group.
type Start struct {
	kind   startKind
	offset int64
	time   time.Time
}

type startKind uint8

const (
	startDefault startKind = iota
	startEarliest
	startLatest
	startOffset
	startTime
	startLast
)

// StartEarliest starts at the first stored message.
func StartEarliest() Start { return Start{kind: startEarliest} }

// StartLatest starts after the last stored message.
func StartLatest() Start { return Start{kind: startLatest} }

// StartAt starts at offset (in every partition).
func StartAt(offset int64) Start { return Start{kind: startOffset, offset: offset} }

// StartTime starts at the first message stored at or after t.
func StartTime(t time.Time) Start { return Start{kind: startTime, time: t} }

// StartLast starts with the last n messages of each partition.
func StartLast(n int64) Start { return Start{kind: startLast, offset: n} }

// IsZero reports whether s is the call's default.
func (s Start) IsZero() bool { return s.kind == startDefault }

// String renders s as "earliest", "latest", "offset:N", "time:RFC3339"
// or "last:N"; "" for the default.
func (s Start) String() string {
	switch s.kind {
	case startEarliest:
		return "earliest"
	case startLatest:
		return "latest"
	case startOffset:
		return fmt.Sprintf("offset:%d", s.offset)
	case startTime:
		return "time:" + s.time.Format(time.RFC3339Nano)
	case startLast:
		return fmt.Sprintf("last:%d", s.offset)
	}
	return ""
}

func (s Start) toProto() *courierv1.Start {
	switch s.kind {
	case startEarliest:
		return &courierv1.Start{Position: &courierv1.Start_Earliest{Earliest: true}}
	case startLatest:
		return &courierv1.Start{Position: &courierv1.Start_Latest{Latest: true}}
	case startOffset:
		return &courierv1.Start{Position: &courierv1.Start_Offset{Offset: s.offset}}
	case startTime:
		return &courierv1.Start{Position: &courierv1.Start_Time{Time: timestamppb.New(s.time)}}
	case startLast:
		return &courierv1.Start{Position: &courierv1.Start_Last{Last: s.offset}}
	}
	return nil
}

func startFromProto(p *courierv1.Start) Start {
	switch v := p.GetPosition().(type) {
	case *courierv1.Start_Earliest:
		return StartEarliest()
	case *courierv1.Start_Latest:
		return StartLatest()
	case *courierv1.Start_Offset:
		return StartAt(v.Offset)
	case *courierv1.Start_Time:
		return StartTime(v.Time.AsTime())
	case *courierv1.Start_Last:
		return StartLast(v.Last)
	}
	return Start{}
}

func durationOrNil(d time.Duration) *durationpb.Duration {
	if d <= 0 {
		return nil
	}
	return durationpb.New(d)
}

func durationOf(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}
