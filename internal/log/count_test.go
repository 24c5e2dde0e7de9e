package log

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
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

// TestLogBatchSize checks batchSize, which places a batch in its group
// before it is encoded there, against the encoding, for records with and
// without keys, headers and timestamps, and values around varint steps.
func TestLogBatchSize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		recs := make([]Record, 1+rng.IntN(40))
		for i := range recs {
			r := &recs[i]
			if rng.IntN(3) > 0 {
				r.Timestamp = 1_700_000_000_000 + rng.Int64N(1<<20) - 1<<19
			}
			if rng.IntN(2) == 0 {
				r.Key = make([]byte, rng.IntN(70))
			}
			r.Value = make([]byte, []int{0, 63, 64, 127, 128, 8191, 8192, rng.IntN(20000)}[rng.IntN(8)])
			for range rng.IntN(3) {
				r.Headers = append(r.Headers, Header{Key: "k", Value: make([]byte, rng.IntN(200))})
			}
		}
		now := int64(1_700_000_000_000)
		if got, want := batchSize(recs, now), len(EncodeBatch(nil, recs, now)); got != want {
			t.Fatalf("round %d: batchSize %d, encoded %d bytes", round, got, want)
		}
	}
}
