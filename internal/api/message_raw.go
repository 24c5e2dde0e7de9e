package api

import (
	"context"
	"io"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect/v2/connectproto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// Deliveries and subscription messages are encoded straight from the
// broker's messages into protobuf bytes (rawEncoder), which an empty
// ConsumeResponse or SubscribeResponse carries as its unknown fields: the
// binary codec writes unknown fields as they are, so the client receives
// exactly what fromBroker and the generated encoder would have sent,
// without the protobuf message, header and timestamp made for every
// message. The JSON codec (jsonCodec) decodes such a response back into
// its fields first, since JSON has no unknown fields.

// rawEncoder encodes responses into a buffer it reuses: the bytes it
// returns hold until its next call. Each message's size is worked out
// once, before its length prefix is written.
type rawEncoder struct {
	buf   []byte
	sizes []int // of the messages of one response
}

// deliveries returns a ConsumeResponse carrying ds (one Delivery, or
// Deliveries), each under its id.
func (e *rawEncoder) deliveries(ids []uint64, ds []*broker.Delivery) *courierv1.ConsumeResponse {
	b, sizes := e.buf[:0], e.sizes[:0]
	if len(ds) == 1 {
		b = appendDelivery(b, 2, ids[0], &ds[0].Message, messageSize(&ds[0].Message))
	} else {
		total := 0
		for i, d := range ds {
			sizes = append(sizes, messageSize(&d.Message))
			total += sizeField(deliverySize(ids[i], sizes[i]))
		}
		b = protowire.AppendVarint(protowire.AppendTag(b, 4, protowire.BytesType), uint64(total))
		for i, d := range ds {
			b = appendDelivery(b, 1, ids[i], &d.Message, sizes[i])
		}
	}
	e.buf, e.sizes = b, sizes
	res := &courierv1.ConsumeResponse{}
	res.ProtoReflect().SetUnknown(b)
	return res
}

// subscribed returns a SubscribeResponse carrying m.
func (e *rawEncoder) subscribed(m *broker.Message) *courierv1.SubscribeResponse {
	e.buf = appendMessage(e.buf[:0], 1, m, messageSize(m))
	res := &courierv1.SubscribeResponse{}
	res.ProtoReflect().SetUnknown(e.buf)
	return res
}

// rawAnswer returns a RequestStreamResponse carrying reply under id, in
// bytes of its own (answers are made on many goroutines at once).
func rawAnswer(id uint64, reply *broker.Message) *courierv1.RequestStreamResponse {
	size := messageSize(reply)
	b := make([]byte, 0, varintSize(id)+sizeField(size))
	b = appendMessage(appendVarint(b, 1, id), 2, reply, size)
	res := &courierv1.RequestStreamResponse{}
	res.ProtoReflect().SetUnknown(b)
	return res
}

// sizeField is the size of a length-delimited field of n bytes, its tag
// included (every tag here is one byte).
func sizeField(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

// deliverySize is the size of a Delivery whose message has msize bytes.
func deliverySize(id uint64, msize int) int {
	n := sizeField(msize)
	if id != 0 {
		n += 1 + protowire.SizeVarint(id)
	}
	return n
}

// appendDelivery appends a Delivery as field num; msize is
// messageSize(m).
func appendDelivery(b []byte, num protowire.Number, id uint64, m *broker.Message, msize int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(deliverySize(id, msize)))
	if id != 0 {
		b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.VarintType), id)
	}
	return appendMessage(b, 2, m, msize)
}

// messageSize is the size of m encoded as fromBroker's Message.
func messageSize(m *broker.Message) int {
	n := strSize(m.Subject) + strSize(m.Key)
	for _, h := range m.Headers {
		if !hiddenHeader(h.Key) {
			n += sizeField(headerSize(h))
		}
	}
	n += strSize(m.Payload)
	if !m.Time.IsZero() {
		n += sizeField(timeSize(m.Time.Unix(), int32(m.Time.Nanosecond())))
	}
	n += strSize(m.ReplyTo) + strSize(m.ID)
	if m.TTL > 0 {
		n += sizeField(timeSize(durationParts(m.TTL)))
	}
	if !m.DeliverAt.IsZero() {
		n += sizeField(timeSize(m.DeliverAt.Unix(), int32(m.DeliverAt.Nanosecond())))
	}
	n += strSize(m.Stream)
	n += varintSize(uint64(int64(int32(m.Partition)))) + varintSize(uint64(m.Offset)) + varintSize(uint64(int64(int32(m.Deliveries))))
	return n
}

// appendMessage appends m as field num: the fields fromBroker sets, in
// field order; size is messageSize(m).
func appendMessage(b []byte, num protowire.Number, m *broker.Message, size int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = appendStr(b, 1, m.Subject)
	b = appendStr(b, 2, m.Key)
	for _, h := range m.Headers {
		if hiddenHeader(h.Key) {
			continue
		}
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(headerSize(h)))
		b = appendStr(b, 1, h.Key)
		b = appendStr(b, headerValueField(h), h.Value)
	}
	b = appendStr(b, 4, m.Payload)
	if !m.Time.IsZero() {
		b = appendTime(b, 5, m.Time.Unix(), int32(m.Time.Nanosecond()))
	}
	b = appendStr(b, 6, m.ReplyTo)
	b = appendStr(b, 7, m.ID)
	if m.TTL > 0 {
		s, ns := durationParts(m.TTL)
		b = appendTime(b, 8, s, ns)
	}
	if !m.DeliverAt.IsZero() {
		b = appendTime(b, 9, m.DeliverAt.Unix(), int32(m.DeliverAt.Nanosecond()))
	}
	b = appendStr(b, 10, m.Stream)
	b = appendVarint(b, 11, uint64(int64(int32(m.Partition))))
	b = appendVarint(b, 12, uint64(m.Offset))
	return appendVarint(b, 13, uint64(int64(int32(m.Deliveries))))
}

// headerValueField is where fromBroker puts a header's value: value (2)
// when it is UTF-8, binary_value (3) when not.
func headerValueField(h broker.Header) protowire.Number {
	if utf8.Valid(h.Value) {
		return 2
	}
	return 3
}

func headerSize(h broker.Header) int { return strSize(h.Key) + strSize(h.Value) }

// durationParts splits d as durationpb.New does.
func durationParts(d time.Duration) (int64, int32) {
	return int64(d / time.Second), int32(d % time.Second)
}

// timeSize is the size of a Timestamp or Duration's two fields.
func timeSize(s int64, ns int32) int {
	return varintSize(uint64(s)) + varintSize(uint64(int64(ns)))
}

func appendTime(b []byte, num protowire.Number, s int64, ns int32) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(timeSize(s, ns)))
	b = appendVarint(b, 1, uint64(s))
	return appendVarint(b, 2, uint64(int64(ns)))
}

// strSize is the size of a string or bytes field, 0 when it is empty
// (proto3 leaves it out).
func strSize[T string | []byte](s T) int {
	if len(s) == 0 {
		return 0
	}
	return sizeField(len(s))
}

func appendStr[T string | []byte](b []byte, num protowire.Number, s T) []byte {
	if len(s) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(s)))
	return append(b, s...)
}

// varintSize is the size of a varint field, 0 when it is zero.
func varintSize(v uint64) int {
	if v == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

// jsonCodec is connectproto's JSON codec, but that it first decodes the
// responses rawEncoder made.
type jsonCodec struct{ *connectproto.JSONCodec }

func (c jsonCodec) MarshalWrite(ctx context.Context, dst io.Writer, msg any) error {
	msg, err := decodeRaw(msg)
	if err != nil {
		return err
	}
	return c.JSONCodec.MarshalWrite(ctx, dst, msg)
}

func (c jsonCodec) MarshalWriteStable(ctx context.Context, dst io.Writer, msg any) error {
	msg, err := decodeRaw(msg)
	if err != nil {
		return err
	}
	return c.JSONCodec.MarshalWriteStable(ctx, dst, msg)
}

// decodeRaw returns a message rawEncoder made decoded into a new one of
// its type, and any other message as it is.
func decodeRaw(msg any) (any, error) {
	m, ok := msg.(proto.Message)
	if !ok || len(m.ProtoReflect().GetUnknown()) == 0 {
		return msg, nil
	}
	decoded := m.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(m.ProtoReflect().GetUnknown(), decoded); err != nil {
		return nil, err
	}
	return decoded, nil
}
