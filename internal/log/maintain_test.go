package log

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/vfs"
)

func TestLogRetentionByCountBytesAge(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	clock := func() time.Time { return now }
	for _, c := range []struct {
		name string
		r    Retention
	}{
		{"count", Retention{MaxRecords: 50}},
		{"bytes", Retention{MaxBytes: 3000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := mustOpen(t, "log", Options{FS: vfs.NewMem(), MaxSegmentBytes: 1024, Retention: c.r, Now: clock})
			defer mustClose(t, l)
			for i := range 200 {
				mustAppend(t, l, rec(i, "k"))
			}
			n, err := l.ApplyRetention()
			if err != nil || n == 0 {
				t.Fatalf("retention removed %d: %v", n, err)
			}
			st := l.Stats()
			if c.r.MaxRecords > 0 && (st.Records < 50 || st.Records > 50+30) {
				t.Fatalf("records after retention %+v", st)
			}
			if c.r.MaxBytes > 0 && (st.Bytes < 3000 || st.Bytes > 3000+1024) {
				t.Fatalf("bytes after retention %+v", st)
			}
			checkSeq(t, readAll(t, l, st.StartOffset), int(st.StartOffset), 200)
			if _, err := l.Read(st.StartOffset-1, 100); !errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("read below start: %v", err)
			}
		})
	}
	t.Run("age", func(t *testing.T) {
		l := mustOpen(t, "log", Options{FS: vfs.NewMem(), MaxSegmentBytes: 1024, Now: clock,
			Retention: Retention{MaxAge: time.Second}})
		defer mustClose(t, l)
		for i := range 100 {
			mustAppend(t, l, Record{Value: []byte("old"), Timestamp: now.UnixMilli() - 5000 + int64(i)})
		}
		mustAppend(t, l, Record{Value: []byte("new"), Timestamp: now.UnixMilli()})
		l.ApplyRetention()
		got := readAll(t, l, l.StartOffset())
		if len(got) == 0 || len(got) > 30 || string(got[len(got)-1].Value) != "new" {
			t.Fatalf("after age retention: %d records", len(got))
		}
		now = now.Add(time.Hour)
		l.ApplyRetention()
		if st := l.Stats(); st.StartOffset != 101 || st.HighWatermark != 101 || st.Records != 0 {
			t.Fatalf("all expired: %+v", st)
		}
		if off := mustAppend(t, l, rec(0, "k")); off != 101 {
			t.Fatalf("append after full expiry at %d", off)
		}
	})
}

func TestLogAdvanceStartSurvivesReopen(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, "log", Options{FS: fs, MaxSegmentBytes: 1024})
	for i := range 100 {
		mustAppend(t, l, rec(i, "k"))
	}
	if err := l.AdvanceStart(42); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	l = mustOpen(t, "log", Options{FS: fs, MaxSegmentBytes: 1024})
	defer mustClose(t, l)
	if l.StartOffset() != 42 {
		t.Fatalf("start %d", l.StartOffset())
	}
	checkSeq(t, readAll(t, l, 42), 42, 100)
}

func TestLogTruncate(t *testing.T) {
	forEachFS(t, func(t *testing.T, fs vfs.FS, dir string) {
		o := Options{FS: fs, MaxSegmentBytes: 1024}
		l := mustOpen(t, dir, o)
		for i := 0; i < 100; i += 4 {
			mustAppend(t, l, rec(i, "k"), rec(i+1, "k"), rec(i+2, "k"), rec(i+3, "k"))
		}
		for _, to := range []int64{90, 61, 60, 3, 0} { // 61 and 3 fall inside batches
			if err := l.Truncate(to); err != nil {
				t.Fatalf("truncate %d: %v", to, err)
			}
			if hw := l.HighWatermark(); hw != to {
				t.Fatalf("hw %d after truncate to %d", hw, to)
			}
			checkSeq(t, readAll(t, l, 0), 0, int(to))
			mustClose(t, l)
			l = mustOpen(t, dir, o)
			checkSeq(t, readAll(t, l, 0), 0, int(to))
		}
		for i := range 10 {
			if off := mustAppend(t, l, rec(i, "k")); off != int64(i) {
				t.Fatalf("append after truncate at %d", off)
			}
		}
		mustClose(t, l)
	})
}

func TestLogCompaction(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	fs := vfs.NewMem()
	o := Options{FS: fs, MaxSegmentBytes: 1024, Now: func() time.Time { return now },
		Compaction: Compaction{TombstoneRetention: time.Minute}}
	l := mustOpen(t, "log", o)
	// 20 keys, each written 10 times; key 3 is deleted at the end.
	for round := range 10 {
		for k := range 20 {
			mustAppend(t, l, Record{Key: fmt.Appendf(nil, "key-%d", k), Value: fmt.Appendf(nil, "v%d", round), Timestamp: now.UnixMilli()})
		}
	}
	mustAppend(t, l, Record{Key: []byte("key-3"), Timestamp: now.UnixMilli()})
	mustAppend(t, l, Record{Value: []byte("keyless"), Timestamp: now.UnixMilli()})
	for range 30 { // push everything above into sealed segments
		mustAppend(t, l, Record{Key: []byte("filler"), Value: []byte("x"), Timestamp: now.UnixMilli()})
	}
	hw := l.HighWatermark()
	st, err := l.Compact(context.Background())
	if err != nil || st.RecordsRemoved == 0 {
		t.Fatalf("compact: %+v %v", st, err)
	}
	check := func(wantTombstone bool) {
		t.Helper()
		latest := map[string]Record{}
		var keyless int
		var prev int64 = -1
		for _, r := range readAll(t, l, 0) {
			if r.Offset <= prev {
				t.Fatalf("offsets not increasing at %d", r.Offset)
			}
			prev = r.Offset
			if r.Key == nil {
				keyless++
				continue
			}
			if _, dup := latest[string(r.Key)]; dup && string(r.Key) != "filler" {
				t.Fatalf("key %s kept twice", r.Key)
			}
			latest[string(r.Key)] = r
		}
		_, has3 := latest["key-3"]
		if keyless != 1 || len(latest) != 20-btoi(!wantTombstone)+1 || has3 != wantTombstone {
			t.Fatalf("after compaction: %d keys, keyless %d, tombstone %v", len(latest), keyless, has3)
		}
		if string(latest["key-7"].Value) != "v9" || l.HighWatermark() != hw {
			t.Fatalf("key-7 = %q, hw %d", latest["key-7"].Value, l.HighWatermark())
		}
	}
	check(true)
	now = now.Add(time.Hour)
	if _, err := l.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(false)
	mustClose(t, l)
	l = mustOpen(t, "log", o)
	check(false)
	mustClose(t, l)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLogRemoveBySubject(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, "log", Options{FS: fs, MaxSegmentBytes: 700})
	for i := range 60 {
		mustAppend(t, l, Record{Value: fmt.Appendf(nil, "%d", i), Headers: []Header{{Key: "s", Value: fmt.Appendf(nil, "s%d", i%3)}}})
	}
	st, err := l.Remove(context.Background(), func(r *Record) bool { return string(r.Headers[0].Value) == "s1" })
	if err != nil || st.RecordsRemoved != 20 {
		t.Fatalf("remove: %+v %v", st, err)
	}
	check := func() {
		got := readAll(t, l, 0)
		if len(got) != 40 || l.HighWatermark() != 60 {
			t.Fatalf("%d left, hw %d", len(got), l.HighWatermark())
		}
		for _, r := range got {
			if string(r.Headers[0].Value) == "s1" || fmt.Sprint(r.Offset) != string(r.Value) {
				t.Fatalf("record %+v", r)
			}
		}
	}
	check()
	mustClose(t, l)
	l = mustOpen(t, "log", Options{FS: fs, MaxSegmentBytes: 700})
	defer mustClose(t, l)
	check()
	if off := mustAppend(t, l, rec(0, "k")); off != 60 {
		t.Fatalf("append after remove at %d", off)
	}
}
