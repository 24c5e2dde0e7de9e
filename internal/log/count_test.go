package log

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// TestLogCompressed finds a compressed batch among whole batches by the
// attributes in their headers.
func TestLogCompressed(t *testing.T) {
	plain := EncodeBatch(nil, []Record{rec(0, "a"), rec(1, "b")}, 1)
	data := append(append([]byte(nil), plain...), plain...)
	if Compressed(data) {
		t.Fatal("uncompressed batches reported compressed")
	}
	binary.BigEndian.PutUint16(data[len(plain)+OffAttributes:], 2) // the second batch: snappy
	if !Compressed(data) {
		t.Fatal("a compressed second batch not found")
	}
	if Compressed(data[:len(data)-1]) {
		t.Error("a batch cut short counted")
	}
	if Compressed(nil) {
		t.Error("no data reported compressed")
	}
}

// TestLogDecodeHeaderKeys decodes records whose header keys repeat and
// differ from one record to the next (the decoder reuses repeated keys),
// with a Headers slice per record and with one shared.
func TestLogDecodeHeaderKeys(t *testing.T) {
	sets := [][]string{{"a", "b"}, {"a", "c"}, {"d"}, {"a", "b", "e"}, nil, {"a", "b", "e"}}
	var recs []Record
	for _, keys := range sets {
		r := Record{Value: []byte("v"), Timestamp: 1}
		for _, k := range keys {
			r.Headers = append(r.Headers, Header{Key: k, Value: []byte(k + "!")})
		}
		recs = append(recs, r)
	}
	for _, decode := range []func([]byte, int64, func(Record) bool) error{DecodeRecords, DecodeRecordsSharing} {
		decodeHeaderKeys(t, decode, EncodeBatch(nil, recs, 1), sets)
	}
}

func decodeHeaderKeys(t *testing.T, decode func([]byte, int64, func(Record) bool) error, data []byte, sets [][]string) {
	t.Helper()
	i := 0
	err := decode(data, 0, func(r Record) bool {
		var got []string
		for _, h := range r.Headers {
			if string(h.Value) != h.Key+"!" {
				t.Errorf("record %d: header %q has value %q", i, h.Key, h.Value)
			}
			got = append(got, h.Key)
		}
		if fmt.Sprint(got) != fmt.Sprint(sets[i]) && len(got)+len(sets[i]) > 0 {
			t.Errorf("record %d: keys %v, want %v", i, got, sets[i])
		}
		i++
		return true
	})
	if err != nil || i != len(sets) {
		t.Fatalf("decoded %d records: %v", i, err)
	}
}
