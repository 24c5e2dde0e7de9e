package log

import (
	"context"
	"fmt"
	"testing"

	"github.com/courier-mq/courier/internal/vfs"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fsCase is one filesystem the shared test bodies run against.
type fsCase struct {
	name string
	fs   func(t *testing.T) (vfs.FS, string)
}

var fsCases = []fsCase{
	{"mem", func(t *testing.T) (vfs.FS, string) { return vfs.NewMem(), "log" }},
	{"disk", func(t *testing.T) (vfs.FS, string) { return vfs.Disk, t.TempDir() }},
}

// forEachFS runs body once per filesystem.
func forEachFS(t *testing.T, body func(t *testing.T, fs vfs.FS, dir string)) {
	for _, c := range fsCases {
		t.Run(c.name, func(t *testing.T) {
			fs, dir := c.fs(t)
			body(t, fs, dir)
		})
	}
}

func mustOpen(t testing.TB, dir string, o Options) *Log {
	t.Helper()
	if o.JanitorInterval == 0 {
		o.JanitorInterval = -1
	}
	l, err := Open(dir, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

func mustClose(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// rec builds a record whose value names its sequence number.
func rec(i int, key string) Record {
	r := Record{Value: fmt.Appendf(nil, "value-%06d", i), Timestamp: int64(1000 + i)}
	if key != "" {
		r.Key = []byte(key)
		r.Headers = []Header{{Key: "subject", Value: []byte("orders." + key)}}
	}
	return r
}

func mustAppend(t testing.TB, l *Log, recs ...Record) int64 {
	t.Helper()
	off, err := l.Append(context.Background(), recs)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return off
}

// readAll returns copies of every record from offset to the high watermark.
func readAll(t testing.TB, l *Log, from int64) []Record {
	t.Helper()
	var out []Record
	for off := from; ; {
		c, err := l.Read(off, 4096)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if len(c.Data) == 0 {
			return out
		}
		if err := DecodeRecords(c.Data, off, func(r Record) bool {
			out = append(out, cloneRecord(r))
			return true
		}); err != nil {
			t.Fatalf("decode at %d: %v", off, err)
		}
		off = c.Next
	}
}

func cloneRecord(r Record) Record {
	c := Record{Offset: r.Offset, Timestamp: r.Timestamp}
	if r.Key != nil {
		c.Key = append([]byte{}, r.Key...)
	}
	c.Value = append([]byte{}, r.Value...)
	for _, h := range r.Headers {
		c.Headers = append(c.Headers, Header{Key: h.Key, Value: append([]byte{}, h.Value...)})
	}
	return c
}
