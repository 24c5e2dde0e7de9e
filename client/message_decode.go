package client

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Deliveries, subscription messages and request answers are decoded from
// their raw bytes: binaryCodec keeps a ConsumeResponse's, a
// SubscribeResponse's and a RequestStreamResponse's bytes as they came (one copy of the whole response), and msgDecoder decodes the
// messages in them straight into the client's Message. A message's key,
// payload and binary header values then alias the response's bytes, and
// its strings are copied, the stream's and a repeated subject's only
// once. The generic decoder makes a protobuf message for each delivery,
// message, header and timestamp and copies every field, and the client
// then converted those into its own types.
//
// The deliveries of one ConsumeResponse so share one array: a Payload
// kept long after its delivery is settled keeps the others' bytes too
// (copy it to keep only its own). Answers of any other kind, and answers
// another codec decoded (JSON), go through the generic path.

// rawOf returns the bytes binaryCodec kept of m, nil if it kept none.
func rawOf(m proto.Message) []byte { return m.ProtoReflect().GetUnknown() }

// unraw decodes the bytes binaryCodec kept of m into m itself.
func unraw(m proto.Message) error {
	raw := rawOf(m)
	if len(raw) == 0 {
		return nil
	}
	m.ProtoReflect().SetUnknown(nil)
	if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(raw, m); err != nil {
		return malformed(m, err)
	}
	return nil
}

// msgDecoder decodes raw messages; it remembers the last stream and
// subject strings it made, to reuse them.
type msgDecoder struct {
	stream, subject string
}

// deliveries decodes the deliveries of a raw ConsumeResponse for k. Any
// other answer is decoded into res itself, and ok is false.
func (d *msgDecoder) deliveries(res *courierv1.ConsumeResponse, k *Consumer) (ds []*Delivery, ok bool, err error) {
	raw := rawOf(res)
	if len(raw) == 0 || !onlyFields(raw, 2, 4) {
		return nil, false, unraw(res)
	}
	err = eachField(raw, consumeFields, func(num protowire.Number, v []byte, _ uint64) error {
		if num == 2 { // one delivery
			return d.delivery(v, k, &ds)
		}
		return eachField(v, listFields, func(_ protowire.Number, v []byte, _ uint64) error {
			return d.delivery(v, k, &ds)
		})
	})
	if err != nil {
		return nil, false, malformed(res, err)
	}
	return ds, true, nil
}

// delivery decodes an encoded Delivery and appends it to ds.
func (d *msgDecoder) delivery(b []byte, k *Consumer, ds *[]*Delivery) error {
	dl := &Delivery{k: k}
	err := eachField(b, deliveryFields, func(num protowire.Number, v []byte, x uint64) error {
		switch num {
		case 1:
			dl.id = x
		case 2:
			dl.Message = Message{}
			return d.message(v, &dl.Message)
		}
		return nil
	})
	*ds = append(*ds, dl)
	return err
}

// subscribed decodes the message of a SubscribeResponse; nil when it has
// none.
func (d *msgDecoder) subscribed(res *courierv1.SubscribeResponse) (*Message, error) {
	raw := rawOf(res)
	if len(raw) == 0 {
		return messageFromProto(res.GetMessage()), nil
	}
	var m *Message
	err := eachField(raw, listFields, func(_ protowire.Number, v []byte, _ uint64) error {
		m = &Message{}
		return d.message(v, m)
	})
	if err != nil {
		return nil, malformed(res, err)
	}
	return m, nil
}

// answer decodes a RequestStreamResponse: its id, and its reply or
// error.
func (d *msgDecoder) answer(res *courierv1.RequestStreamResponse) (id uint64, reply *Message, perr *courierv1.Error, err error) {
	raw := rawOf(res)
	if len(raw) == 0 {
		return res.GetId(), messageFromProto(res.GetReply()), res.GetError(), nil
	}
	err = eachField(raw, answerFields, func(num protowire.Number, v []byte, x uint64) error {
		switch num {
		case 1:
			id = x
		case 2:
			reply = &Message{}
			return d.message(v, reply)
		case 3:
			perr = &courierv1.Error{}
			return proto.Unmarshal(v, perr)
		}
		return nil
	})
	if err != nil {
		return 0, nil, nil, malformed(res, err)
	}
	return id, reply, perr, nil
}

// message decodes an encoded courier.v1.Message into m.
func (d *msgDecoder) message(b []byte, m *Message) error {
	return eachField(b, messageFields, func(num protowire.Number, v []byte, x uint64) error {
		switch num {
		case 1:
			m.Subject = reuse(v, &d.subject)
		case 2:
			m.Key = alias(v)
		case 3:
			h, err := header(v)
			m.Headers = append(m.Headers, h)
			return err
		case 4:
			m.Payload = alias(v)
		case 5:
			return timestamp(v, &m.Time)
		case 6:
			m.ReplyTo = string(v)
		case 7:
			m.ID = string(v)
		case 8:
			return duration(v, &m.TTL)
		case 9:
			return timestamp(v, &m.DeliverAt)
		case 10:
			m.Stream = reuse(v, &d.stream)
		case 11:
			m.Partition = int(int32(x))
		case 12:
			m.Offset = int64(x)
		case 13:
			m.Deliveries = int(int32(x))
		}
		return nil
	})
}

// header decodes an encoded Header: a binary value, when present, is the
// value.
func header(b []byte) (h Header, err error) {
	err = eachField(b, headerFields, func(num protowire.Number, v []byte, _ uint64) error {
		switch num {
		case 1:
			h.Key = string(v)
		case 2, 3:
			h.Value = string(v)
		}
		return nil
	})
	return h, err
}

func timestamp(b []byte, t *time.Time) error {
	secs, nanos, err := secondsNanos(b)
	*t = (&timestamppb.Timestamp{Seconds: secs, Nanos: nanos}).AsTime()
	return err
}

func duration(b []byte, d *time.Duration) error {
	secs, nanos, err := secondsNanos(b)
	*d = (&durationpb.Duration{Seconds: secs, Nanos: nanos}).AsDuration()
	return err
}

// secondsNanos decodes a Timestamp's or a Duration's two fields.
func secondsNanos(b []byte) (secs int64, nanos int32, err error) {
	err = eachField(b, timeFields, func(num protowire.Number, _ []byte, x uint64) error {
		if num == 1 {
			secs = int64(x)
		} else {
			nanos = int32(x)
		}
		return nil
	})
	return secs, nanos, err
}

// alias returns v, or nil when it is empty (as the generic decoder does).
func alias(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	return v[:len(v):len(v)]
}

// reuse returns v as a string: *last if it is the same, else a new one,
// which it remembers.
func reuse(v []byte, last *string) string {
	if string(v) != *last {
		*last = string(v)
	}
	return *last
}

// fieldTypes is the wire type of each field of a message, by number;
// noField marks a number that is not a field.
type fieldTypes []protowire.Type

const noField protowire.Type = -1

const (
	bytesT  = protowire.BytesType
	varintT = protowire.VarintType
)

var (
	consumeFields  = fieldTypes{noField, bytesT, bytesT, bytesT, bytesT, bytesT}
	listFields     = fieldTypes{noField, bytesT} // Deliveries, SubscribeResponse
	deliveryFields = fieldTypes{noField, varintT, bytesT}
	messageFields  = fieldTypes{noField, bytesT, bytesT, bytesT, bytesT, bytesT, bytesT, bytesT, bytesT, bytesT, bytesT, varintT, varintT, varintT}
	headerFields   = fieldTypes{noField, bytesT, bytesT, bytesT}
	timeFields     = fieldTypes{noField, varintT, varintT} // Timestamp, Duration
	answerFields   = fieldTypes{noField, varintT, bytesT, bytesT}
)

// eachField calls fn with each known field of an encoded message (types
// says which): its number, and its bytes (length-delimited) or value
// (varint). A known field of another wire type is an error, as it is for
// the generated decoders; unknown fields are skipped.
func eachField(b []byte, types fieldTypes, fn func(num protowire.Number, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		known := int(num) < len(types) && types[num] != noField
		switch {
		case known && typ != types[num]:
			return fmt.Errorf("field %d has wire type %d", num, typ)
		case typ == bytesT:
			v, n = protowire.ConsumeBytes(b)
		case typ == varintT:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if known {
			if err := fn(num, v, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// onlyFields reports whether every field of b is one of nums.
func onlyFields(b []byte, nums ...protowire.Number) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return false
		}
		found := false
		for _, want := range nums {
			found = found || num == want
		}
		if !found {
			return false
		}
		b = b[n+m:]
	}
	return true
}

func malformed(m proto.Message, err error) error {
	return errorf(&Error{Code: "internal", Reason: "internal"}, "malformed %s: %v", m.ProtoReflect().Descriptor().Name(), err)
}
