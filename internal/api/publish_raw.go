package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	"connectrpc.com/connect/v2/connectproto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// A PublishStreamRequest in binary protobuf is not decoded by the Connect
// codec: binaryCodec keeps its bytes as the request's unknown fields, and
// the store goroutine decodes its publishes one at a time (publishRaw)
// into a PublishRequest and Message it reuses, with
// google.golang.org/protobuf. A publish then costs the allocations of its
// own fields (subject, payload ...) but none for the two messages around
// them, and the decoding runs off the receive goroutine. The bytes are
// checked as the codec would (framing, UTF-8, wire types) before any
// message of the batch is stored; a request that fails ends the stream
// with invalid_argument, as a decoding error in the codec does.

// binaryCodec is connectproto's binary codec but for PublishStreamRequest
// (see above).
type binaryCodec struct{ *connectproto.BinaryCodec }

func newBinaryCodec() binaryCodec { return binaryCodec{connectproto.NewBinaryCodec()} }

// readBufs holds the buffers requests are read into before their bytes
// are copied out.
var readBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// UnmarshalRead keeps a PublishStreamRequest's bytes raw and decodes any
// other message.
func (c binaryCodec) UnmarshalRead(ctx context.Context, src io.Reader, msg any) error {
	req, ok := msg.(*courierv1.PublishStreamRequest)
	if !ok {
		return c.BinaryCodec.UnmarshalRead(ctx, src, msg)
	}
	req.Reset()
	if b, ok := src.(*bytes.Buffer); ok { // Connect's own read buffer: one copy
		if b.Len() > 0 {
			req.ProtoReflect().SetUnknown(raws.clone(b.Next(b.Len())))
		}
		return nil
	}
	buf := readBufs.Get().(*bytes.Buffer)
	defer readBufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(src); err != nil {
		return err
	}
	if buf.Len() > 0 {
		req.ProtoReflect().SetUnknown(raws.clone(buf.Bytes()))
	}
	return nil
}

// raws holds the buffers raw requests are kept in until stored.
var raws = rawPool{out: map[*byte]*[]byte{}}

// rawPool lends buffers for raw requests: a request's copy goes into a
// buffer a stored request gave back, warm in memory, rather than into a
// new one. The store side gives a request's buffer back once its
// publishes are stored (the broker keeps none of their bytes, see
// broker.PublishBatchAsync); a buffer the pool did not lend is left alone.
type rawPool struct {
	free sync.Pool // *[]byte
	mu   sync.Mutex
	out  map[*byte]*[]byte // lent, by first byte
}

// clone returns a lent copy of b (not empty).
func (p *rawPool) clone(b []byte) []byte {
	bp, _ := p.free.Get().(*[]byte)
	if bp == nil || cap(*bp) < len(b) {
		bp = &[]byte{}
	}
	c := append((*bp)[:0], b...)
	*bp = c
	p.mu.Lock()
	p.out[&c[0]] = bp
	p.mu.Unlock()
	return c
}

// releaseRaw gives back the raw bytes of a request that will not be
// stored (nil: none).
func releaseRaw(req *courierv1.PublishStreamRequest) {
	if req != nil {
		raws.release(req.ProtoReflect().GetUnknown())
	}
}

// release takes back raw if the pool lent it; raw's bytes must no longer
// be used. Every raw request the codec made is released, stored or not,
// or the pool would keep it.
func (p *rawPool) release(raw []byte) {
	if len(raw) == 0 {
		return
	}
	p.mu.Lock()
	bp, ok := p.out[&raw[0]]
	delete(p.out, &raw[0])
	p.mu.Unlock()
	if ok {
		p.free.Put(bp)
	}
}

// rawDecoder decodes raw publishes into one PublishRequest and Message
// it reuses.
type rawDecoder struct {
	pr   courierv1.PublishRequest
	m    courierv1.Message
	subj string // the last subject decoded by fast, reused when repeated
}

// countPublishes checks raw as the fields of a PublishStreamRequest and
// returns how many publishes (field 1) it holds; other fields are skipped
// as unknown.
func countPublishes(raw []byte) (int, error) {
	n := 0
	for len(raw) > 0 {
		num, typ, tn := protowire.ConsumeTag(raw)
		if tn < 0 {
			return 0, malformed(protowire.ParseError(tn))
		}
		if num == 1 && typ != protowire.BytesType {
			return 0, malformed(fmt.Errorf("publishes has wire type %d", typ))
		}
		vn := protowire.ConsumeFieldValue(num, typ, raw[tn:])
		if vn < 0 {
			return 0, malformed(protowire.ParseError(vn))
		}
		if num == 1 {
			n++
		}
		raw = raw[tn+vn:]
	}
	return n, nil
}

// next decodes the publish at the head of raw (checked by
// countPublishes) and returns it with the rest of raw; the publish is nil
// when the head is another field. The PublishRequest is valid until the
// next call.
func (d *rawDecoder) next(raw []byte) (*courierv1.PublishRequest, []byte, error) {
	num, typ, tn := protowire.ConsumeTag(raw)
	vn := protowire.ConsumeFieldValue(num, typ, raw[tn:])
	rest := raw[tn+vn:]
	if num != 1 {
		return nil, rest, nil
	}
	v, _ := protowire.ConsumeBytes(raw[tn:])
	if d.fast(v) {
		return &d.pr, rest, nil
	}
	d.pr.Reset()
	d.m.Reset()
	d.pr.Message = &d.m // reused: Merge decodes into it
	if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(v, &d.pr); err != nil {
		return nil, nil, malformed(err)
	}
	if !hasMessage(v) {
		d.pr.Message = nil
	}
	return &d.pr, rest, nil
}

// hasMessage reports whether an encoded PublishRequest carries field 1
// (message).
func hasMessage(b []byte) bool {
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

// fast decodes the common publish, a PublishRequest holding only a
// message with at most a subject, key, payload, reply subject and id
// (each once, strings valid UTF-8), without copying: the key and payload
// alias b, which the store side owns and never reuses (the binary codec
// clones each request), and a subject like the one before shares its
// string. It reports false, having decoded nothing, for any other
// publish, which next decodes with google.golang.org/protobuf.
func (d *rawDecoder) fast(b []byte) bool {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || num != 1 || typ != protowire.BytesType {
		return false
	}
	v, vn := protowire.ConsumeBytes(b[n:])
	if vn < 0 || n+vn != len(b) {
		return false
	}
	var f [8][]byte // fields 1, 2, 4, 6, 7 of Message
	var seen uint8
	for len(v) > 0 {
		num, typ, n := protowire.ConsumeTag(v)
		if n < 0 || typ != protowire.BytesType || num >= protowire.Number(len(f)) || (num != 1 && num != 2 && num != 4 && num != 6 && num != 7) || seen&(1<<num) != 0 {
			return false
		}
		x, xn := protowire.ConsumeBytes(v[n:])
		if xn < 0 {
			return false
		}
		f[num], seen = x, seen|1<<num
		v = v[n+xn:]
	}
	if !utf8.Valid(f[1]) || !utf8.Valid(f[6]) || !utf8.Valid(f[7]) {
		return false
	}
	d.pr.Reset()
	d.m.Reset()
	if string(f[1]) != d.subj {
		d.subj = string(f[1])
	}
	d.m.Subject, d.m.Key, d.m.Payload = d.subj, nonEmpty(f[2]), nonEmpty(f[4])
	d.m.ReplyTo, d.m.Id = string(f[6]), string(f[7])
	d.pr.Message = &d.m
	return true
}

// nonEmpty is b, or nil when empty (as google.golang.org/protobuf
// decodes an empty bytes field).
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func malformed(err error) error {
	return invalidArg("malformed PublishStreamRequest: %v", err)
}
