package client

import (
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// An async publish is encoded once, when it is queued, straight into its
// lane's batch: the batch is the bytes of field 1 (publishes) of
// PublishStreamRequest, which PublishBatchRequest shares, so the same
// bytes serve either call and a batch sent again. The bytes travel as the
// request's unknown fields, which protobuf writes out as they are: on the
// wire the request is the one the server expects. Each publish is encoded
// by google.golang.org/protobuf from a PublishRequest that the lane reuses
// (pubEncoder), so queuing a message allocates nothing for its encoding.

// pubEncoder encodes publishes, reusing one set of protobuf messages. Its
// lane's mu guards it.
type pubEncoder struct {
	req       courierv1.PublishRequest
	msg       courierv1.Message
	hdrs      []courierv1.Header
	hptrs     []*courierv1.Header
	time      timestamppb.Timestamp
	deliverAt timestamppb.Timestamp
	ttl       durationpb.Duration
	n         int // the loaded publish's encoded size
}

// size loads m (with opts) into the encoder and returns the bytes its
// framed encoding takes.
func (e *pubEncoder) size(m *Message, opts []PubOption) int {
	e.req.Reset()
	e.req.Message = e.message(m)
	for _, o := range opts {
		o(&pubOptions{&e.req})
	}
	e.n = proto.Size(&e.req)
	return protowire.SizeTag(1) + protowire.SizeVarint(uint64(e.n)) + e.n
}

// append appends the publish loaded by size to dst, framed as one
// element of field 1.
func (e *pubEncoder) append(dst []byte) ([]byte, error) {
	at := len(dst)
	dst = protowire.AppendTag(dst, 1, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(e.n))
	out, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(dst, &e.req)
	if err != nil {
		return dst[:at], errorf(ErrInvalid, "the message cannot be encoded: %v", err)
	}
	return out, nil
}

// message loads m into the encoder's Message.
func (e *pubEncoder) message(m *Message) *courierv1.Message {
	p := &e.msg
	p.Reset()
	p.Subject, p.Key, p.Payload, p.ReplyTo, p.Id = m.Subject, m.Key, m.Payload, m.ReplyTo, m.ID
	if len(m.Headers) > 0 {
		p.Headers = e.headers(m.Headers)
	}
	if !m.Time.IsZero() {
		p.Time = setTimestamp(&e.time, m.Time)
	}
	if m.TTL > 0 {
		p.Ttl = setDuration(&e.ttl, m.TTL)
	}
	if !m.DeliverAt.IsZero() {
		p.DeliverAt = setTimestamp(&e.deliverAt, m.DeliverAt)
	}
	return p
}

func (e *pubEncoder) headers(hs []Header) []*courierv1.Header {
	if cap(e.hdrs) < len(hs) {
		e.hdrs = make([]courierv1.Header, len(hs))
		e.hptrs = make([]*courierv1.Header, len(hs))
	}
	ptrs := e.hptrs[:len(hs)]
	for i, h := range hs {
		ph := &e.hdrs[i]
		ph.Reset()
		if utf8.ValidString(h.Value) {
			ph.Key, ph.Value = h.Key, h.Value
		} else {
			ph.Key, ph.BinaryValue = h.Key, []byte(h.Value)
		}
		ptrs[i] = ph
	}
	return ptrs
}

// rawRequest is a PublishStreamRequest (or, for unary, a
// PublishBatchRequest) whose publishes are raw, encoded by pubEncoder.
func rawRequest[T proto.Message](req T, raw []byte) T {
	req.ProtoReflect().SetUnknown(protoreflect.RawFields(raw))
	return req
}

// setTimestamp loads at into t (reused) and returns t.
func setTimestamp(t *timestamppb.Timestamp, at time.Time) *timestamppb.Timestamp {
	t.Reset()
	t.Seconds, t.Nanos = at.Unix(), int32(at.Nanosecond())
	return t
}

// setDuration loads v into d (reused) and returns d, as durationpb.New.
func setDuration(d *durationpb.Duration, v time.Duration) *durationpb.Duration {
	d.Reset()
	d.Seconds, d.Nanos = int64(v/time.Second), int32(v%time.Second)
	return d
}
