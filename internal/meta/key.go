package meta

import (
	"encoding/binary"
	"fmt"
)

// Type tags of key parts. Parts of different types at the same position
// sort by tag.
const (
	tagBytes  = 0x01
	tagString = 0x02
	tagInt    = 0x03
	tagUint   = 0x04
)

// Key builds the key of namespace ns and the given parts. A part is a
// string, a []byte, an int, int32 or int64 (decoded as int64), or a uint,
// uint32 or uint64 (decoded as uint64); Key panics on any other type.
//
// Keys sort as their tuples do: part by part, parts of one type by value
// (strings and byte slices bytewise, integers numerically), parts of
// different types by type in the order []byte, string, signed, unsigned,
// and a tuple before its extensions. Every part is self-delimiting, so
// Key(ns, a...) is a prefix of Key(ns, b...) exactly when a is a prefix of
// b: "a" and "ab" never collide.
func Key(ns string, parts ...any) []byte {
	n := len(ns) + 3
	for range parts {
		n += 12
	}
	dst := appendEscaped(append(make([]byte, 0, n), tagString), ns)
	for _, p := range parts {
		dst = appendPart(dst, p)
	}
	return dst
}

// Prefix returns the prefix shared by every key of namespace ns whose
// leading parts are parts, and by that key itself: Scan(Prefix("cursor",
// "orders")) visits every key Key("cursor", "orders", ...). It equals Key.
func Prefix(ns string, parts ...any) []byte { return Key(ns, parts...) }

func appendPart(dst []byte, p any) []byte {
	switch v := p.(type) {
	case string:
		return appendEscaped(append(dst, tagString), v)
	case []byte:
		return appendEscaped(append(dst, tagBytes), v)
	case int:
		return appendInt(dst, int64(v))
	case int32:
		return appendInt(dst, int64(v))
	case int64:
		return appendInt(dst, v)
	case uint:
		return binary.BigEndian.AppendUint64(append(dst, tagUint), uint64(v))
	case uint32:
		return binary.BigEndian.AppendUint64(append(dst, tagUint), uint64(v))
	case uint64:
		return binary.BigEndian.AppendUint64(append(dst, tagUint), v)
	}
	panic(fmt.Sprintf("meta: key part of unsupported type %T", p))
}

// IntPartLen is the length of an integer part.
const IntPartLen = 9

// AppendInt appends an integer part to a key: AppendInt(Key(ns, a...), v)
// is Key(ns, a..., v).
func AppendInt(key []byte, v int64) []byte { return appendInt(key, v) }

// appendInt flips the sign bit so that negative numbers sort first.
func appendInt(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, tagInt), uint64(v)^(1<<63))
}

// appendEscaped writes s with each 0x00 as 0x00 0xFF, then the terminator
// 0x00 0x01.
func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, s[i])
		if s[i] == 0 {
			dst = append(dst, 0xff)
		}
	}
	return append(dst, 0x00, 0x01)
}

// DecodeKey splits a key built by Key into its namespace and parts. Every
// byte string is either rejected (an error wrapping ErrInvalidKey) or
// decoded so that Key(ns, parts...) gives it back exactly.
func DecodeKey(key []byte) (ns string, parts []any, err error) {
	d := keyDecoder{b: key}
	if len(key) == 0 || key[0] != tagString {
		return "", nil, d.errorf("namespace is not a string")
	}
	first, err := d.part()
	if err != nil {
		return "", nil, err
	}
	for d.pos < len(d.b) {
		p, err := d.part()
		if err != nil {
			return "", nil, err
		}
		parts = append(parts, p)
	}
	return first.(string), parts, nil
}

type keyDecoder struct {
	b   []byte
	pos int
}

func (d *keyDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at byte %d", ErrInvalidKey, fmt.Sprintf(format, args...), d.pos)
}

func (d *keyDecoder) part() (any, error) {
	tag := d.b[d.pos]
	d.pos++
	switch tag {
	case tagString:
		s, err := d.escaped()
		return string(s), err
	case tagBytes:
		return d.escaped()
	case tagInt, tagUint:
		if len(d.b)-d.pos < 8 {
			return nil, d.errorf("truncated integer")
		}
		u := binary.BigEndian.Uint64(d.b[d.pos:])
		d.pos += 8
		if tag == tagInt {
			return int64(u ^ (1 << 63)), nil
		}
		return u, nil
	}
	d.pos--
	return nil, d.errorf("unknown part type 0x%02x", tag)
}

func (d *keyDecoder) escaped() ([]byte, error) {
	out := []byte{}
	for ; d.pos < len(d.b); d.pos++ {
		c := d.b[d.pos]
		if c != 0 {
			out = append(out, c)
			continue
		}
		if d.pos+1 == len(d.b) {
			break
		}
		d.pos++
		switch d.b[d.pos] {
		case 0xff:
			out = append(out, 0)
		case 0x01:
			d.pos++
			return out, nil
		default:
			return nil, d.errorf("bad escape 0x00 0x%02x", d.b[d.pos])
		}
	}
	return nil, d.errorf("unterminated string")
}

// prefixEnd returns the smallest key greater than every key with the given
// prefix, or nil if there is none (the prefix is empty or all 0xFF).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte{}, prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
