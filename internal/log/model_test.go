package log

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/vfs"
	"pgregory.net/rapid"
)

// logModel is the naive log: every record ever appended, by offset, and
// which of them are still present.
type logModel struct {
	recs    []Record // index = offset
	present []bool
	start   int64
}

func (m *logModel) hw() int64 { return int64(len(m.recs)) }

func (m *logModel) visible(from int64) []Record {
	var out []Record
	for off := max(from, m.start); off < m.hw(); off++ {
		if m.present[off] {
			out = append(out, m.recs[off])
		}
	}
	return out
}

// compact applies compaction to offsets below sealedEnd.
func (m *logModel) compact(sealedEnd, horizon int64) {
	latest := map[string]int64{}
	for off := m.start; off < m.hw(); off++ {
		if r := m.recs[off]; m.present[off] && r.Key != nil {
			latest[string(r.Key)] = off
		}
	}
	for off := m.start; off < sealedEnd; off++ {
		r := m.recs[off]
		if !m.present[off] || r.Key == nil {
			continue
		}
		if latest[string(r.Key)] != off || (r.IsTombstone() && r.Timestamp < horizon) {
			m.present[off] = false
		}
	}
}

// modelRun drives the log and the model with the same random operations.
type modelRun struct {
	t     *rapid.T
	fs    vfs.FS
	opts  Options
	l     *Log
	m     logModel
	clock time.Time
}

func TestLogMatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		r := &modelRun{t: rt, fs: vfs.NewMem(), clock: time.UnixMilli(1_000_000)}
		r.opts = Options{FS: r.fs, JanitorInterval: -1, Now: func() time.Time { return r.clock },
			MaxSegmentBytes: int64(rapid.IntRange(200, 3000).Draw(rt, "segBytes")),
			IndexInterval:   int64(rapid.IntRange(1, 512).Draw(rt, "indexInterval")),
			Retention:       Retention{MaxRecords: int64(rapid.IntRange(0, 60).Draw(rt, "maxRecords"))},
			Compaction:      Compaction{TombstoneRetention: time.Second}}
		r.open()
		defer func() { r.l.Close() }()
		rt.Repeat(map[string]func(*rapid.T){
			"append":    r.append,
			"read":      r.read,
			"time":      r.offsetForTime,
			"retention": r.retention,
			"advance":   r.advanceStart,
			"compact":   r.compact,
			"truncate":  r.truncate,
			"reopen":    r.reopen,
			"tick": func(t *rapid.T) {
				r.clock = r.clock.Add(time.Duration(rapid.IntRange(0, 1500).Draw(t, "ms")) * time.Millisecond)
			},
			"": r.check,
		})
	})
}

func (r *modelRun) open() {
	l, err := Open("log", r.opts)
	if err != nil {
		r.t.Fatalf("open: %v", err)
	}
	r.l = l
}

func (r *modelRun) append(t *rapid.T) {
	n := rapid.IntRange(1, 4).Draw(t, "n")
	recs := make([]Record, n)
	for i := range recs {
		if k := rapid.SampledFrom([]string{"", "a", "b", "c", "d"}).Draw(t, "key"); k != "" {
			recs[i].Key = []byte(k)
		}
		recs[i].Value = rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "value")
		recs[i].Headers = []Header{{Key: "subject", Value: []byte("s.x")}}
	}
	off, err := r.l.Append(context.Background(), recs)
	if err != nil || off != r.m.hw() {
		t.Fatalf("append: offset %d, %v; want %d", off, err, r.m.hw())
	}
	for _, rec := range recs {
		rec.Offset, rec.Timestamp = r.m.hw(), r.clock.UnixMilli()
		r.m.recs = append(r.m.recs, rec)
		r.m.present = append(r.m.present, true)
	}
}

func (r *modelRun) read(t *rapid.T) {
	from := rapid.Int64Range(r.m.start-2, r.m.hw()+2).Draw(t, "from")
	max := rapid.IntRange(1, 2000).Draw(t, "max")
	if from < r.m.start || from > r.m.hw() {
		if _, err := r.l.Read(from, max); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("read %d outside [%d, %d]: %v", from, r.m.start, r.m.hw(), err)
		}
		return
	}
	var got []Record
	for off := from; ; {
		c, err := r.l.Read(off, max)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		if len(c.Data) == 0 {
			break
		}
		DecodeRecords(c.Data, off, func(x Record) bool { got = append(got, cloneRecord(x)); return true })
		off = c.Next
	}
	sameRecords(t, got, r.m.visible(from))
}

func sameRecords(t *rapid.T, got, want []Record) {
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Offset != w.Offset || g.Timestamp != w.Timestamp || !bytes.Equal(g.Key, w.Key) ||
			(g.Key == nil) != (w.Key == nil) || !bytes.Equal(g.Value, w.Value) || len(g.Headers) != 1 {
			t.Fatalf("record %d: got %+v, want %+v", i, g, w)
		}
	}
}

func (r *modelRun) offsetForTime(t *rapid.T) {
	ts := rapid.Int64Range(r.clock.UnixMilli()-5000, r.clock.UnixMilli()+10).Draw(t, "ts")
	want := r.m.hw()
	for _, x := range r.m.visible(r.m.start) {
		if x.Timestamp >= ts {
			want = x.Offset
			break
		}
	}
	if got, err := r.l.OffsetForTime(ts); err != nil || got != want {
		t.Fatalf("OffsetForTime(%d) = %d, %v; want %d", ts, got, err, want)
	}
}

func (r *modelRun) retention(t *rapid.T) {
	before := r.l.Stats()
	if _, err := r.l.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	st := r.l.Stats()
	if st.StartOffset < r.m.start {
		t.Fatalf("retention moved start back: %d < %d", st.StartOffset, r.m.start)
	}
	if lim := r.opts.Retention.MaxRecords; lim > 0 && st.StartOffset > before.StartOffset && st.Records < lim {
		t.Fatalf("retention left %d records, below the limit %d", st.Records, lim)
	}
	r.m.start = st.StartOffset
}

func (r *modelRun) advanceStart(t *rapid.T) {
	off := rapid.Int64Range(r.m.start, r.m.hw()).Draw(t, "start")
	if err := r.l.AdvanceStart(off); err != nil {
		t.Fatal(err)
	}
	r.m.start = off
}

func (r *modelRun) compact(t *rapid.T) {
	r.l.mu.RLock()
	sealedEnd := r.l.active().base
	r.l.mu.RUnlock()
	if _, err := r.l.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.m.compact(sealedEnd, r.clock.Add(-time.Second).UnixMilli())
}

func (r *modelRun) truncate(t *rapid.T) {
	off := rapid.Int64Range(r.m.start, r.m.hw()).Draw(t, "to")
	if err := r.l.Truncate(off); err != nil {
		t.Fatal(err)
	}
	r.m.recs, r.m.present = r.m.recs[:off], r.m.present[:off]
}

func (r *modelRun) reopen(t *rapid.T) {
	if err := r.l.Close(); err != nil {
		t.Fatal(err)
	}
	r.open()
}

func (r *modelRun) check(t *rapid.T) {
	if hw, start := r.l.HighWatermark(), r.l.StartOffset(); hw != r.m.hw() || start != r.m.start {
		t.Fatalf("log [%d, %d), model [%d, %d)", start, hw, r.m.start, r.m.hw())
	}
}
