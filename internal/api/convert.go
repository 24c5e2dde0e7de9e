package api

import (
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// toBroker converts a published message. Server-set fields (stream,
// partition, offset, deliveries) are ignored.
func toBroker(m *courierv1.Message) *broker.Message {
	out := &broker.Message{}
	toBrokerInto(out, m)
	return out
}

// toBrokerInto is toBroker into out, which it overwrites.
func toBrokerInto(out *broker.Message, m *courierv1.Message) {
	*out = broker.Message{
		Subject: m.GetSubject(),
		Key:     m.GetKey(),
		Payload: m.GetPayload(),
		ReplyTo: m.GetReplyTo(),
		ID:      m.GetId(),
		TTL:     duration(m.GetTtl()),
	}
	if m.GetTime() != nil {
		out.Time = m.GetTime().AsTime()
	}
	if m.GetDeliverAt() != nil {
		out.DeliverAt = m.GetDeliverAt().AsTime()
	}
	if len(m.GetHeaders()) > 0 {
		out.Headers = make([]broker.Header, len(m.GetHeaders()))
		for i, h := range m.GetHeaders() {
			out.Headers[i] = broker.Header{Key: h.GetKey(), Value: headerValue(h)}
		}
	}
}

// headerValue is binary_value when set, else value.
func headerValue(h *courierv1.Header) []byte {
	if len(h.GetBinaryValue()) > 0 {
		return h.GetBinaryValue()
	}
	return []byte(h.GetValue())
}

// fromBroker converts a stored or delivered message. A header value that
// is not valid UTF-8 goes in binary_value.
func fromBroker(m *broker.Message) *courierv1.Message {
	out := &courierv1.Message{
		Subject:    m.Subject,
		Key:        m.Key,
		Payload:    m.Payload,
		ReplyTo:    m.ReplyTo,
		Id:         m.ID,
		Stream:     m.Stream,
		Partition:  int32(m.Partition),
		Offset:     m.Offset,
		Deliveries: int32(m.Deliveries),
	}
	if !m.Time.IsZero() {
		out.Time = timestamppb.New(m.Time)
	}
	if m.TTL > 0 {
		out.Ttl = durationpb.New(m.TTL)
	}
	if !m.DeliverAt.IsZero() {
		out.DeliverAt = timestamppb.New(m.DeliverAt)
	}
	for _, h := range m.Headers {
		if hiddenHeader(h.Key) {
			continue
		}
		ph := &courierv1.Header{Key: h.Key}
		if utf8.Valid(h.Value) {
			ph.Value = string(h.Value)
		} else {
			ph.BinaryValue = h.Value
		}
		out.Headers = append(out.Headers, ph)
	}
	return out
}

// hiddenHeader reports whether a header is one a protocol front-end keeps
// on its messages for itself (the MQTT front-end's mqtt-meta: QoS, retain
// flag, publisher), which API clients are not shown.
func hiddenHeader(k string) bool { return k == "mqtt-meta" }

// duration is d as a time.Duration, 0 when absent.
func duration(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}

// durationOrNil is d as a protobuf Duration, nil when 0.
func durationOrNil(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// toStart converts a start position; nil gives def.
func toStart(s *courierv1.Start, def broker.StartKind) broker.Start {
	st := toStartKind(s, def)
	if rs := s.GetResume(); len(rs) > 0 {
		st.Resume = make(map[broker.PartitionRef]int64, len(rs))
		for _, r := range rs {
			st.Resume[broker.PartitionRef{Stream: r.GetStream(), Partition: int(r.GetPartition())}] = r.GetOffset()
		}
	}
	return st
}

func toStartKind(s *courierv1.Start, def broker.StartKind) broker.Start {
	switch p := s.GetPosition().(type) {
	case *courierv1.Start_Earliest:
		return broker.Start{Kind: broker.StartEarliest}
	case *courierv1.Start_Latest:
		return broker.Start{Kind: broker.StartLatest}
	case *courierv1.Start_Offset:
		return broker.Start{Kind: broker.StartOffset, Offset: p.Offset}
	case *courierv1.Start_Time:
		return broker.Start{Kind: broker.StartTime, Time: p.Time.AsTime()}
	case *courierv1.Start_Last:
		return broker.Start{Kind: broker.StartLastN, N: p.Last}
	}
	return broker.Start{Kind: def}
}

// fromStart converts a start position back.
func fromStart(s broker.Start) *courierv1.Start {
	switch s.Kind {
	case broker.StartEarliest:
		return &courierv1.Start{Position: &courierv1.Start_Earliest{Earliest: true}}
	case broker.StartLatest:
		return &courierv1.Start{Position: &courierv1.Start_Latest{Latest: true}}
	case broker.StartOffset:
		return &courierv1.Start{Position: &courierv1.Start_Offset{Offset: s.Offset}}
	case broker.StartTime:
		return &courierv1.Start{Position: &courierv1.Start_Time{Time: timestamppb.New(s.Time)}}
	case broker.StartLastN:
		return &courierv1.Start{Position: &courierv1.Start_Last{Last: s.N}}
	}
	return nil
}
