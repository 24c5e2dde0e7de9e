package wire

import (
	"bytes"
	"strings"
	"time"

	"connectrpc.com/connect/v2"
)

// The payloads of the control frames.
//
//	open:    timeout-ms procedure headers
//	headers: headers
//	end:     code message details trailers
//	window:  increment
//	go-away: code message
//	headers  = count (name value)*
//	details  = count (type value)*
//
// A code is a Connect code; 0 in an end is success.

// openFrame opens a stream.
type openFrame struct {
	procedure string
	timeout   time.Duration // 0: none
	header    connect.Header
}

func (o *openFrame) append(b []byte) []byte {
	e := enc(b).uvarint(uint64(o.timeout.Milliseconds()))
	e = e.str(o.procedure)
	return appendHeaders(e, &o.header)
}

func parseOpen(p []byte) (*openFrame, error) {
	d := dec{b: p}
	o := &openFrame{}
	ms := d.uvarint()
	o.procedure = d.str()
	readHeaders(&d, &o.header)
	if err := d.end(); err != nil {
		return nil, err
	}
	if ms > uint64(365*24*time.Hour/time.Millisecond) {
		return nil, errMalformed
	}
	o.timeout = time.Duration(ms) * time.Millisecond
	return o, nil
}

// endFrame ends a stream.
type endFrame struct {
	code    connect.Code // 0: success
	message string
	details []*connect.ErrorDetail
	trailer connect.Header
}

func (f *endFrame) append(b []byte) []byte {
	e := enc(b).uvarint(uint64(f.code)).str(f.message)
	e = e.uvarint(uint64(len(f.details)))
	for _, dt := range f.details {
		e = e.str(dt.Type).bytes(dt.Value)
	}
	return appendHeaders(e, &f.trailer)
}

// maxEndMessage is where fit cuts an error message.
const maxEndMessage = 8 << 10

// fit makes the end fit in a frame: a long message is cut, then details
// and trailers go if it is still too large.
func (f *endFrame) fit() {
	if len(f.append(nil)) <= MaxControlBytes {
		return
	}
	if len(f.message) > maxEndMessage {
		f.message = strings.ToValidUTF8(f.message[:maxEndMessage], "") + "…"
	}
	if len(f.append(nil)) > MaxControlBytes {
		f.details = nil
	}
	if len(f.append(nil)) > MaxControlBytes {
		f.trailer = connect.Header{}
	}
}

func parseEnd(p []byte) (*endFrame, error) {
	d := dec{b: p}
	f := &endFrame{code: connect.Code(d.uvarint()), message: d.str()}
	for range d.count(2) {
		f.details = append(f.details, &connect.ErrorDetail{Type: d.str(), Value: bytes.Clone(d.bytes())}) // p is reused
	}
	readHeaders(&d, &f.trailer)
	if err := d.end(); err != nil {
		return nil, err
	}
	if f.code > connect.CodeUnauthenticated {
		f.code = connect.CodeUnknown
	}
	return f, nil
}

// err is the end's error, nil on success; it is the remote side's
// verdict.
func (f *endFrame) err() error {
	if f.code == 0 {
		return nil
	}
	e := connect.NewError(f.code, f.message)
	for _, dt := range f.details {
		e = e.WithDetail(dt)
	}
	return e.WithRemote()
}

func appendHeaders(e enc, h *connect.Header) []byte {
	n := 0
	for _, vs := range h.All() {
		n += len(vs)
	}
	e = e.uvarint(uint64(n))
	for k, vs := range h.All() {
		for _, v := range vs {
			e = e.str(k).str(v)
		}
	}
	return e
}

func readHeaders(d *dec, h *connect.Header) {
	for range d.count(2) {
		k, v := d.str(), d.str()
		if d.err == nil {
			h.Add(k, v)
		}
	}
}

func parseHeaders(p []byte) (connect.Header, error) {
	d := dec{b: p}
	var h connect.Header
	readHeaders(&d, &h)
	return h, d.end()
}

func appendWindow(b []byte, n int) []byte { return enc(b).uvarint(uint64(n)) }

func parseWindow(p []byte) (int, error) {
	d := dec{b: p}
	n := d.uvarint()
	if err := d.end(); err != nil {
		return 0, err
	}
	if n == 0 || n > 1<<31 {
		return 0, errMalformed
	}
	return int(n), nil
}

// goAway says the connection takes no new streams, and why.
type goAway struct {
	code    connect.Code
	message string
}

func (g goAway) append(b []byte) []byte { return enc(b).uvarint(uint64(g.code)).str(g.message) }

func parseGoAway(p []byte) (goAway, error) {
	d := dec{b: p}
	g := goAway{code: connect.Code(d.uvarint()), message: d.str()}
	if err := d.end(); err != nil {
		return goAway{}, err
	}
	if g.code == 0 || g.code > connect.CodeUnauthenticated {
		g.code = connect.CodeUnknown
	}
	return g, nil
}
