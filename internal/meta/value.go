package meta

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// PutJSON stores v, encoded as JSON, under key (as Set does).
func (s *Store) PutJSON(key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("meta: encode %T: %w", v, err)
	}
	return s.Set(key, b)
}

// GetJSON decodes the JSON value of key into v, or returns ErrNotFound.
func (s *Store) GetJSON(key []byte, v any) error {
	b, err := s.Get(key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("meta: decode %T: %w", v, err)
	}
	return nil
}

// EncodeInt encodes an integer value (an offset, a count) as a zig-zag
// varint: 1 byte for -64..63, at most 10.
func EncodeInt(v int64) []byte { return AppendIntValue(nil, v) }

// AppendIntValue appends the encoding of v (as EncodeInt) to dst.
func AppendIntValue(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// DecodeInt decodes a value written by EncodeInt.
func DecodeInt(b []byte) (int64, error) {
	v, n := binary.Varint(b)
	if n <= 0 || n != len(b) {
		return 0, fmt.Errorf("meta: bad integer value %x", b)
	}
	return v, nil
}
