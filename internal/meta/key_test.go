package meta

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// A tuple is a namespace followed by parts, as given to Key.
type tuple []any

func genBytes() *rapid.Generator[[]byte] {
	return rapid.SliceOfN(rapid.SampledFrom([]byte{0x00, 0x01, 0x02, 'a', 'b', 0xfe, 0xff}), 0, 4)
}

func genPart() *rapid.Generator[any] {
	ints := []int64{math.MinInt64, -256, -1, 0, 1, 255, 256, math.MaxInt64}
	uints := []uint64{0, 1, 255, 256, 1 << 63, math.MaxUint64}
	return rapid.OneOf(
		rapid.Map(genBytes(), func(b []byte) any { return b }),
		rapid.Map(genBytes(), func(b []byte) any { return string(b) }),
		rapid.Map(rapid.OneOf(rapid.Int64(), rapid.SampledFrom(ints)), func(v int64) any { return v }),
		rapid.Map(rapid.OneOf(rapid.Uint64(), rapid.SampledFrom(uints)), func(v uint64) any { return v }),
	)
}

func genTuple() *rapid.Generator[tuple] {
	return rapid.Custom(func(t *rapid.T) tuple {
		ns := string(genBytes().Draw(t, "ns"))
		parts := rapid.SliceOfN(genPart(), 0, 4).Draw(t, "parts")
		return append(tuple{ns}, parts...)
	})
}

func (tu tuple) key() []byte { return Key(tu[0].(string), tu[1:]...) }

// rank orders part types as the encoding does.
func rank(p any) int {
	switch p.(type) {
	case []byte:
		return 1
	case string:
		return 2
	case int64:
		return 3
	}
	return 4
}

func comparePart(a, b any) int {
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	switch a := a.(type) {
	case []byte:
		return bytes.Compare(a, b.([]byte))
	case string:
		return cmp.Compare(a, b.(string))
	case int64:
		return cmp.Compare(a, b.(int64))
	}
	return cmp.Compare(a.(uint64), b.(uint64))
}

func compareTuple(a, b tuple) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := comparePart(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// isPrefix reports whether tuple a is a prefix of tuple b.
func isPrefix(a, b tuple) bool {
	return len(a) <= len(b) && compareTuple(a, b[:len(a)]) == 0
}

func TestMetaKeyOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genTuple().Draw(t, "a"), genTuple().Draw(t, "b")
		ka, kb := a.key(), b.key()
		if got, want := bytes.Compare(ka, kb), compareTuple(a, b); got != want {
			t.Fatalf("compare %x %x = %d, tuples compare %d", ka, kb, got, want)
		}
		if got, want := bytes.HasPrefix(kb, ka), isPrefix(a, b); got != want {
			t.Fatalf("key %x prefix of %x: %v, tuple prefix: %v", ka, kb, got, want)
		}
	})
}

func TestMetaKeyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genTuple().Draw(t, "a")
		ns, parts, err := DecodeKey(a.key())
		if err != nil {
			t.Fatalf("decode %x: %v", a.key(), err)
		}
		if got := append(tuple{ns}, parts...); compareTuple(got, a) != 0 {
			t.Fatalf("decode %x = %v, want %v", a.key(), got, a)
		}
	})
}

func TestMetaKeyExamples(t *testing.T) {
	// The example of the package documentation.
	if got, want := fmt.Sprintf("% x", Key("cursor", "orders", 3)),
		"02 63 75 72 73 6f 72 00 01 02 6f 72 64 65 72 73 00 01 03 80 00 00 00 00 00 00 03"; got != want {
		t.Errorf("Key(cursor, orders, 3) = %s, want %s", got, want)
	}
	if bytes.HasPrefix(Key("g", "ab"), Prefix("g", "a")) {
		t.Errorf(`Key("g", "ab") starts with Prefix("g", "a")`)
	}
	if bytes.HasPrefix(Key("g", "a\x00"), Prefix("g", "a")) {
		t.Errorf(`Key("g", "a\x00") starts with Prefix("g", "a")`)
	}
	if !bytes.HasPrefix(Key("g", "a", int64(7)), Prefix("g", "a")) {
		t.Errorf(`Key("g", "a", 7) does not start with Prefix("g", "a")`)
	}
	if bytes.Compare(Key("t", -1), Key("t", 0)) >= 0 || bytes.Compare(Key("t", 255), Key("t", 256)) >= 0 {
		t.Errorf("integers out of order")
	}
	ns, parts, err := DecodeKey(Key("n", int(-3), int32(4), uint(5), uint32(6), []byte{}))
	want := tuple{"n", int64(-3), int64(4), uint64(5), uint64(6), []byte{}}
	if err != nil || compareTuple(append(tuple{ns}, parts...), want) != 0 {
		t.Errorf("decode = %q %v %v, want %v", ns, parts, err, want)
	}
}

func TestMetaKeyInvalid(t *testing.T) {
	bad := [][]byte{
		nil,
		{tagInt, 0, 0, 0, 0, 0, 0, 0, 0},          // namespace not a string
		{tagString, 'a'},                          // unterminated
		{tagString, 'a', 0x00},                    // unterminated after 0x00
		{tagString, 'a', 0x00, 0x02},              // bad escape
		{tagString, 0x00, 0x01, tagInt, 1, 2},     // truncated integer
		{tagString, 0x00, 0x01, 0x09, 0x00, 0x01}, // unknown tag
	}
	for _, k := range bad {
		if _, _, err := DecodeKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("DecodeKey(%x) = %v, want ErrInvalidKey", k, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Key with a float part did not panic")
		}
	}()
	Key("n", 1.5)
}

func FuzzMetaDecodeKey(f *testing.F) {
	f.Add(Key("cursor", "orders", "g1", 3, CursorAcked, int64(42)), "s", int64(-1), uint64(7), []byte{0})
	f.Add([]byte{tagString, 0x00}, "", int64(0), uint64(0), []byte(nil))
	f.Add([]byte{tagString, 'a', 0x00, 0xff, 0x00, 0x01, tagUint}, "a\x00b", int64(math.MinInt64), uint64(math.MaxUint64), []byte{0xff})
	f.Fuzz(func(t *testing.T, data []byte, s string, i int64, u uint64, b []byte) {
		// Arbitrary bytes: no panic, and whatever decodes encodes back.
		if ns, parts, err := DecodeKey(data); err == nil {
			if k := Key(ns, parts...); !bytes.Equal(k, data) {
				t.Fatalf("decode %x then encode = %x", data, k)
			}
		}
		// A valid key decodes to its parts.
		want := tuple{s, b, i, s, u}
		ns, parts, err := DecodeKey(want.key())
		if err != nil || compareTuple(append(tuple{ns}, parts...), want) != 0 {
			t.Fatalf("round trip of %v: %q %v %v", want, ns, parts, err)
		}
	})
}

func TestAppendIntExtendsAKey(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 1 << 40, -(1 << 62)} {
		got := AppendInt(Key("cursor", "s", 3, "dlv"), v)
		if want := Key("cursor", "s", 3, "dlv", v); !bytes.Equal(got, want) {
			t.Fatalf("AppendInt(%d) = %x, want %x", v, got, want)
		}
		if n := len(got) - len(Key("cursor", "s", 3, "dlv")); n != IntPartLen {
			t.Fatalf("an int part of %d bytes, IntPartLen %d", n, IntPartLen)
		}
	}
}
