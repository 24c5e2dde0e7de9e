package log

import (
	"encoding/binary"
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
