package log

import (
	"context"
	"errors"
	"testing"

	"github.com/courier-mq/courier/internal/vfs"
)

// Appends made one after another with the async halves keep their order,
// get contiguous offsets, and are readable once their waits return.
func TestAppendAsyncKeepsOrder(t *testing.T) {
	forEachFS(t, func(t *testing.T, fs vfs.FS, dir string) {
		l := mustOpen(t, dir, Options{FS: fs})
		defer mustClose(t, l)
		var waits []func(context.Context) error
		for i := range 50 {
			base, wait, err := l.AppendIfAsync([]Record{rec(i, "")}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if base != int64(i) {
				t.Fatalf("append %d got offset %d", i, base)
			}
			waits = append(waits, wait)
		}
		for i, w := range waits {
			if err := w(context.Background()); err != nil {
				t.Fatalf("wait %d: %v", i, err)
			}
			if err := w(context.Background()); err != nil {
				t.Fatalf("second wait %d: %v", i, err)
			}
		}
		if hw := l.HighWatermark(); hw != 50 {
			t.Fatalf("high watermark %d, want 50", hw)
		}
		got := readValues(t, l, 0)
		for i, v := range got {
			if want := string(rec(i, "").Value); v != want {
				t.Fatalf("record %d = %q, want %q", i, v, want)
			}
		}
		if len(got) != 50 {
			t.Fatalf("read %d records, want 50", len(got))
		}
	})
}

// A refused check stores nothing and gives no wait; a batch validated
// asynchronously is copied, so the caller may reuse its buffer at once.
func TestAppendAsyncRefusalAndCopy(t *testing.T) {
	l := mustOpen(t, "log", Options{FS: vfs.NewMem()})
	defer mustClose(t, l)
	no := errors.New("no")
	if _, wait, err := l.AppendIfAsync([]Record{rec(0, "")}, func(int64) error { return no }); !errors.Is(err, no) || wait != nil {
		t.Fatalf("refused append: err %v, wait %v", err, wait != nil)
	}
	b := EncodeBatch(nil, []Record{rec(7, "")}, 1)
	base, wait, err := l.AppendBatchIfAsync(b, nil)
	if err != nil || base != 0 {
		t.Fatalf("batch: base %d err %v", base, err)
	}
	clear(b)
	if err := wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readValues(t, l, 0); len(got) != 1 || got[0] != string(rec(7, "").Value) {
		t.Fatalf("read %q", got)
	}
}

func readValues(t testing.TB, l *Log, from int64) []string {
	t.Helper()
	var out []string
	for _, r := range readAll(t, l, from) {
		out = append(out, string(r.Value))
	}
	return out
}
