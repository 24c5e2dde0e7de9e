package amqp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"slices"
)

// frame is one frame as read. payload aliases the frame reader's buffer
// and is valid until the next read.
type frame struct {
	typ     uint8
	channel uint16
	payload []byte
}

// frameReader reads frames from a buffered stream. The size in a frame's
// header is checked against max before any of the payload is buffered
// (spec 4.2.3: a peer must not send a frame larger than the negotiated
// frame-max, and the recipient treats one as a frame-error).
type frameReader struct {
	r   *bufio.Reader
	max uint32 // negotiated frame-max, header and end octet included
	buf []byte
}

// frameErr is a fault in framing or decoding: the connection closes
// with code (the text names the code itself).
func frameErr(code uint16, format string, args ...any) *amqpError {
	return &amqpError{code: code, text: fmt.Sprintf(format, args...)}
}

func (fr *frameReader) read() (frame, error) {
	var hdr [7]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		return frame{}, err
	}
	f := frame{typ: hdr[0], channel: binary.BigEndian.Uint16(hdr[1:3])}
	size := binary.BigEndian.Uint32(hdr[3:7])
	if uint64(size)+frameOverhead > uint64(fr.max) {
		return frame{}, frameErr(codeFrameError, "FRAME_ERROR - frame of %d bytes exceeds frame-max %d", uint64(size)+frameOverhead, fr.max)
	}
	switch f.typ {
	case frameMethod, frameHeader, frameBody, frameHeartbeat:
	default:
		return frame{}, frameErr(codeFrameError, "FRAME_ERROR - unknown frame type %d", f.typ)
	}
	n := int(size) + 1
	if cap(fr.buf) < n {
		fr.buf = make([]byte, n)
	}
	fr.buf = fr.buf[:n]
	if _, err := io.ReadFull(fr.r, fr.buf); err != nil {
		return frame{}, err
	}
	if fr.buf[size] != frameEnd {
		return frame{}, frameErr(codeFrameError, "FRAME_ERROR - frame end octet is 0x%02x, not 0xce", fr.buf[size])
	}
	f.payload = fr.buf[:size]
	return f, nil
}

// decodeMethod decodes a method frame's payload.
func decodeMethod(p []byte) (method, error) {
	if len(p) < 4 {
		return nil, frameErr(codeFrameError, "FRAME_ERROR - method frame of %d bytes", len(p))
	}
	class, id := binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:])
	m := newMethod(class, id)
	if m == nil {
		return nil, frameErr(codeCommandInvalid, "COMMAND_INVALID - unknown method %d.%d", class, id)
	}
	r := reader{b: p[4:]}
	m.read(&r)
	if r.err != nil {
		return nil, frameErr(codeSyntaxError, "SYNTAX_ERROR - %s: %v", m.Name(), r.err)
	}
	return m, nil
}

// appendFrame appends a frame with payload written by fn.
func appendFrame(b []byte, typ uint8, ch uint16, fn func(w *writer)) []byte {
	w := writer{b: b}
	w.octet(typ)
	w.short(ch)
	at := len(w.b)
	w.long(0)
	fn(&w)
	binary.BigEndian.PutUint32(w.b[at:], uint32(len(w.b)-at-4))
	w.octet(frameEnd)
	return w.b
}

// appendMethod appends a method frame.
func appendMethod(b []byte, ch uint16, m method) []byte {
	return appendFrame(b, frameMethod, ch, func(w *writer) {
		class, id := m.ID()
		w.short(class)
		w.short(id)
		m.write(w)
	})
}

// appendContent appends a method with content: the method frame, the
// content header and the body in frames of at most frameMax bytes.
func appendContent(b []byte, ch uint16, m method, p *Properties, body []byte, frameMax uint32) []byte {
	b = appendMethod(b, ch, m)
	b = appendFrame(b, frameHeader, ch, func(w *writer) {
		w.short(classBasic)
		w.short(0)
		w.longlong(uint64(len(body)))
		p.write(w)
	})
	chunk := int(frameMax) - frameOverhead
	for len(body) > 0 {
		n := min(chunk, len(body))
		b = appendFrame(b, frameBody, ch, func(w *writer) { w.b = append(w.b, body[:n]...) })
		body = body[n:]
	}
	return b
}

func sortedKeys(t Table) []string { return slices.Sorted(maps.Keys(t)) }
