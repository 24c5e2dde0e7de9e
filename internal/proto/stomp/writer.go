package stomp

import (
	"strconv"
)

// frameBuilder encodes one frame into a byte slice. Headers are escaped
// for the connection's version (not at all in CONNECTED frames); the
// content-length header is always written, last, from the body's size.
type frameBuilder struct {
	b   []byte
	esc escaping
}

func (w *frameBuilder) start(cmd string) {
	w.b = append(w.b, cmd...)
	w.b = append(w.b, '\n')
}

func (w *frameBuilder) header(k, v string) {
	w.b = appendEscaped(w.b, k, w.esc)
	w.b = append(w.b, ':')
	w.b = appendEscaped(w.b, v, w.esc)
	w.b = append(w.b, '\n')
}

// headerBytes is header with a byte value.
func (w *frameBuilder) headerBytes(k string, v []byte) {
	w.b = appendEscaped(w.b, k, w.esc)
	w.b = append(w.b, ':')
	w.b = appendEscaped(w.b, v, w.esc)
	w.b = append(w.b, '\n')
}

// end writes content-length, the blank line, the body and the NUL, and
// returns the frame.
func (w *frameBuilder) end(body []byte) []byte {
	w.b = append(w.b, "content-length:"...)
	w.b = strconv.AppendInt(w.b, int64(len(body)), 10)
	w.b = append(w.b, '\n', '\n')
	w.b = append(w.b, body...)
	return append(w.b, 0)
}

// representable reports whether a header name or value can be written
// in escaping esc: without escapes (STOMP 1.0, CONNECTED) a newline
// cannot be, nor a colon in a name; 1.1 cannot carry a carriage return.
func representable[S string | []byte](s S, esc escaping, name bool) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			if esc == escNone {
				return false
			}
		case '\r':
			if esc != esc12 {
				return false
			}
		case ':':
			if name && esc == escNone {
				return false
			}
		}
	}
	return true
}

func appendEscaped[S string | []byte](b []byte, s S, esc escaping) []byte {
	if esc == escNone {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case ':':
			b = append(b, '\\', 'c')
		case '\r':
			b = append(b, '\\', 'r') // only reached in 1.2 (see representable)
		default:
			b = append(b, c)
		}
	}
	return b
}

// encodeFrame encodes f as a server frame in escaping esc.
func encodeFrame(f *Frame, esc escaping) []byte {
	w := frameBuilder{esc: esc}
	w.start(f.Command)
	for _, h := range f.Headers {
		if h.Key == hdrContentLength {
			continue
		}
		if representable(h.Key, esc, true) && representable(h.Value, esc, false) {
			w.header(h.Key, h.Value)
		}
	}
	return w.end(f.Body)
}
