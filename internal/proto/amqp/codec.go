package amqp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// method is one AMQP method's arguments; methods_gen.go has one
// unexported struct per method of the spec (basicPublish, ...).
type method interface {
	ID() (class, id uint16)
	Name() string
	HasContent() bool
	read(r *reader)
	write(w *writer)
}

// Frame types and the frame end octet (spec 4.2.3).
const (
	frameMethod    = 1
	frameHeader    = 2
	frameBody      = 3
	frameHeartbeat = 8
	frameEnd       = 0xCE
	// frameOverhead is a frame's header and end octet.
	frameOverhead = 8
	// frameMinSize is the smallest frame-max a peer may ask for, and the
	// bound until tuning is done (spec: frame-min-size).
	frameMinSize = 4096
)

// Table is a field table. Values keep the Go type of their AMQP tag so
// that a table decodes and encodes back to the same bytes: bool 't',
// int8 'b', uint8 'B', int16 's', uint16 'u', int32 'I', uint32 'i',
// int64 'l', float32 'f', float64 'd', Decimal 'D', string 'S',
// []byte 'x', []any 'A', time.Time 'T', Table 'F', nil 'V'.
type Table map[string]any

// Decimal is a field table's decimal value: Value / 10^Scale.
type Decimal struct {
	Scale uint8
	Value int32
}

// maxTableDepth bounds nested tables and arrays.
const maxTableDepth = 32

var errShort = errors.New("truncated")

// reader decodes method arguments from a payload. The first error sticks
// and later reads return zero values.
type reader struct {
	b     []byte
	err   error
	depth int
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(errShort)
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) octet() uint8 {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) short() uint16 {
	if p := r.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) long() uint32 {
	if p := r.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) longlong() uint64 {
	if p := r.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (r *reader) timestamp() uint64 { return r.longlong() }

func (r *reader) shortstr() string { return string(r.take(int(r.octet()))) }

func (r *reader) longstr() string { return string(r.longbytes()) }

func (r *reader) longbytes() []byte {
	n := r.long()
	if uint64(n) > uint64(len(r.b)) {
		r.fail(errShort)
		return nil
	}
	return r.take(int(n))
}

func (r *reader) table() Table {
	body := r.longbytes()
	if r.err != nil {
		return nil
	}
	if r.depth >= maxTableDepth {
		r.fail(errors.New("field tables nested too deep"))
		return nil
	}
	sub := reader{b: body, depth: r.depth + 1}
	t := Table{}
	for len(sub.b) > 0 && sub.err == nil {
		k := sub.shortstr()
		v := sub.value()
		t[k] = v
	}
	if sub.err != nil {
		r.fail(fmt.Errorf("field table: %w", sub.err))
		return nil
	}
	return t
}

func (r *reader) array() []any {
	body := r.longbytes()
	if r.err != nil {
		return nil
	}
	if r.depth >= maxTableDepth {
		r.fail(errors.New("field arrays nested too deep"))
		return nil
	}
	sub := reader{b: body, depth: r.depth + 1}
	out := []any{}
	for len(sub.b) > 0 && sub.err == nil {
		out = append(out, sub.value())
	}
	if sub.err != nil {
		r.fail(fmt.Errorf("field array: %w", sub.err))
		return nil
	}
	return out
}

// value reads one tagged field value.
func (r *reader) value() any {
	switch tag := r.octet(); tag {
	case 't':
		return r.octet() != 0
	case 'b':
		return int8(r.octet())
	case 'B':
		return r.octet()
	case 's':
		return int16(r.short())
	case 'u':
		return r.short()
	case 'I':
		return int32(r.long())
	case 'i':
		return r.long()
	case 'l':
		return int64(r.longlong())
	case 'f':
		return math.Float32frombits(r.long())
	case 'd':
		return math.Float64frombits(r.longlong())
	case 'D':
		return Decimal{Scale: r.octet(), Value: int32(r.long())}
	case 'S':
		return r.longstr()
	case 'x':
		return append([]byte{}, r.longbytes()...)
	case 'A':
		return r.array()
	case 'T':
		return time.Unix(int64(r.longlong()), 0).UTC()
	case 'F':
		return r.table()
	case 'V':
		return nil
	default:
		if r.err == nil {
			r.fail(fmt.Errorf("unknown field type %q", tag))
		}
		return nil
	}
}

// writer encodes method arguments.
type writer struct{ b []byte }

func (w *writer) octet(v uint8) { w.b = append(w.b, v) }

func (w *writer) short(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }

func (w *writer) long(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *writer) longlong(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }

func (w *writer) timestamp(v uint64) { w.longlong(v) }

// shortstr writes s, cut to 255 bytes (callers bound what they send).
func (w *writer) shortstr(s string) {
	if len(s) > math.MaxUint8 {
		s = s[:math.MaxUint8]
	}
	w.octet(uint8(len(s)))
	w.b = append(w.b, s...)
}

func (w *writer) longstr(s string) {
	w.long(uint32(len(s)))
	w.b = append(w.b, s...)
}

// nested writes a long size, then fn's bytes, then patches the size.
func (w *writer) nested(fn func()) {
	at := len(w.b)
	w.long(0)
	fn()
	binary.BigEndian.PutUint32(w.b[at:], uint32(len(w.b)-at-4))
}

func (w *writer) table(t Table) {
	w.nested(func() {
		for _, k := range sortedKeys(t) {
			w.shortstr(k)
			w.value(t[k])
		}
	})
}

// value writes one tagged value; a type outside Table's list is written
// as its string form.
func (w *writer) value(v any) {
	switch v := v.(type) {
	case bool:
		w.octet('t')
		if v {
			w.octet(1)
		} else {
			w.octet(0)
		}
	case int8:
		w.octet('b')
		w.octet(uint8(v))
	case uint8:
		w.octet('B')
		w.octet(v)
	case int16:
		w.octet('s')
		w.short(uint16(v))
	case uint16:
		w.octet('u')
		w.short(v)
	case int32:
		w.octet('I')
		w.long(uint32(v))
	case uint32:
		w.octet('i')
		w.long(v)
	case int64:
		w.octet('l')
		w.longlong(uint64(v))
	case int:
		w.octet('l')
		w.longlong(uint64(v))
	case float32:
		w.octet('f')
		w.long(math.Float32bits(v))
	case float64:
		w.octet('d')
		w.longlong(math.Float64bits(v))
	case Decimal:
		w.octet('D')
		w.octet(v.Scale)
		w.long(uint32(v.Value))
	case string:
		w.octet('S')
		w.longstr(v)
	case []byte:
		w.octet('x')
		w.long(uint32(len(v)))
		w.b = append(w.b, v...)
	case []any:
		w.octet('A')
		w.nested(func() {
			for _, x := range v {
				w.value(x)
			}
		})
	case time.Time:
		w.octet('T')
		w.longlong(uint64(v.Unix()))
	case Table:
		w.octet('F')
		w.table(v)
	case nil:
		w.octet('V')
	default:
		w.octet('S')
		w.longstr(fmt.Sprint(v))
	}
}
