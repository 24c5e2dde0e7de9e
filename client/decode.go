package client

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"connectrpc.com/connect/v2/connectproto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// A PublishStreamResponse (a result per message of a batch) is not
// decoded by the Connect codec: binaryCodec keeps its bytes as the
// response's unknown fields, and the lane's receiver decodes the results
// one at a time (resultDecoder) into PublishResult and PublishResponse
// messages it reuses from answer to answer, with google.golang.org/protobuf.
// A result then costs no allocation but its stream name's.
// ConsumeResponse, SubscribeResponse and RequestStreamResponse are kept
// raw too, for msgDecoder (message_decode.go).

// codecs are the client's codecs: binary protobuf (binaryCodec), then
// JSON.
func codecs() connecthttp.Option {
	return connecthttp.WithCodecs(binaryCodec{connectproto.NewBinaryCodec()}, connectproto.NewJSONCodec())
}

// binaryCodec is connectproto's binary codec but for the responses it
// keeps raw (see above).
type binaryCodec struct{ *connectproto.BinaryCodec }

// UnmarshalRead keeps the bytes of a response decoded later raw, and
// decodes any other message.
func (c binaryCodec) UnmarshalRead(ctx context.Context, src io.Reader, msg any) error {
	var res proto.Message
	switch m := msg.(type) {
	case *courierv1.PublishStreamResponse:
		res = m
	case *courierv1.ConsumeResponse:
		res = m
	case *courierv1.SubscribeResponse:
		res = m
	case *courierv1.RequestStreamResponse:
		res = m
	default:
		return c.BinaryCodec.UnmarshalRead(ctx, src, msg)
	}
	var raw []byte
	if b, isBuf := src.(*bytes.Buffer); isBuf { // Connect's own read buffer
		raw = bytes.Clone(b.Next(b.Len()))
	} else {
		var err error
		if raw, err = io.ReadAll(src); err != nil {
			return err
		}
	}
	proto.Reset(res)
	if len(raw) > 0 {
		res.ProtoReflect().SetUnknown(raw)
	}
	return nil
}

// resultDecoder decodes the results of a PublishStreamResponse into
// messages it reuses: they hold until the next call.
type resultDecoder struct {
	slots []resultSlot
	ptrs  []*courierv1.PublishResult
}

type resultSlot struct {
	res courierv1.PublishResult
	ack courierv1.PublishResponse
}

// results returns res's results, decoding them if they are raw.
func (d *resultDecoder) results(res *courierv1.PublishStreamResponse) ([]*courierv1.PublishResult, error) {
	raw := res.ProtoReflect().GetUnknown()
	if len(raw) == 0 {
		return res.GetResults(), nil
	}
	n, err := countField1(raw)
	if err != nil {
		return nil, err
	}
	if cap(d.slots) < n {
		d.slots = make([]resultSlot, n)
		d.ptrs = make([]*courierv1.PublishResult, n)
	}
	d.slots, d.ptrs = d.slots[:n], d.ptrs[:n]
	for i := 0; len(raw) > 0; {
		num, typ, tn := protowire.ConsumeTag(raw)
		vn := protowire.ConsumeFieldValue(num, typ, raw[tn:])
		if num == 1 {
			v, _ := protowire.ConsumeBytes(raw[tn:])
			if d.ptrs[i], err = d.slots[i].decode(v); err != nil {
				return nil, err
			}
			i++
		}
		raw = raw[tn+vn:]
	}
	return d.ptrs, nil
}

// decode decodes one PublishResult into s.
func (s *resultSlot) decode(v []byte) (*courierv1.PublishResult, error) {
	s.res.Reset()
	s.ack.Reset()
	s.res.Ack = &s.ack // reused: Merge decodes into it
	if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(v, &s.res); err != nil {
		return nil, malformedAnswer(err)
	}
	if !hasField1(v) {
		s.res.Ack = nil
	}
	return &s.res, nil
}

// countField1 checks raw as a message's fields and counts its field 1,
// which must be length-delimited.
func countField1(raw []byte) (int, error) {
	n := 0
	for len(raw) > 0 {
		num, typ, tn := protowire.ConsumeTag(raw)
		if tn < 0 {
			return 0, malformedAnswer(protowire.ParseError(tn))
		}
		if num == 1 && typ != protowire.BytesType {
			return 0, malformedAnswer(fmt.Errorf("field 1 has wire type %d", typ))
		}
		vn := protowire.ConsumeFieldValue(num, typ, raw[tn:])
		if vn < 0 {
			return 0, malformedAnswer(protowire.ParseError(vn))
		}
		if num == 1 {
			n++
		}
		raw = raw[tn+vn:]
	}
	return n, nil
}

// hasField1 reports whether an encoded message (checked) has field 1.
func hasField1(b []byte) bool {
	for len(b) > 0 {
		num, typ, tn := protowire.ConsumeTag(b)
		if tn < 0 {
			return false
		}
		if num == 1 {
			return true
		}
		vn := protowire.ConsumeFieldValue(num, typ, b[tn:])
		if vn < 0 {
			return false
		}
		b = b[tn+vn:]
	}
	return false
}

func malformedAnswer(err error) error {
	return errorf(&Error{Code: "internal", Reason: "internal"}, "malformed PublishStreamResponse: %v", err)
}

var _ connect.Codec = binaryCodec{}
