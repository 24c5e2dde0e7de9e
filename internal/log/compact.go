package log

import (
	"context"
	"fmt"
	"time"
)

// CompactStats report what one compaction pass did.
type CompactStats struct {
	Segments       int   // segments rewritten
	RecordsRemoved int64 // superseded records and expired tombstones
	BytesBefore    int64 // size of the rewritten segments before
	BytesAfter     int64 // and after
}

// Compact runs one compaction pass now: it keeps, in every sealed segment,
// only the newest record of each key (as of the high watermark when the
// pass starts) and drops tombstones older than TombstoneRetention. Offsets
// do not change; reads skip the gaps. The pass reads and writes at most
// Compaction.BytesPerSecond. Readers are never blocked: a segment is
// rewritten beside the old one and swapped in, and a reader that holds the
// old one keeps reading it. It works whether or not Compaction.Enabled is
// set (that only starts the background cleaner).
func (l *Log) Compact(ctx context.Context) (CompactStats, error) {
	l.cmu.Lock()
	defer l.cmu.Unlock()
	sealed, start, hw, dirty, err := l.sealedSegments()
	if err != nil {
		return CompactStats{}, err
	}
	defer releaseAll(sealed)
	th := newThrottle(l.opts.Compaction.BytesPerSecond)
	latest, err := l.keyMap(ctx, th, start, hw)
	if err != nil {
		return CompactStats{}, err
	}
	horizon := l.opts.Now().Add(-l.opts.Compaction.TombstoneRetention).UnixMilli()
	keep := func(r *Record) bool {
		if r.Key == nil {
			return true
		}
		if latest[string(r.Key)] != r.Offset {
			return false
		}
		return !(r.IsTombstone() && r.Timestamp < horizon)
	}
	st, err := l.clean(ctx, sealed, cleaner{l: l, th: th, keep: keep})
	if err == nil {
		l.mu.Lock()
		l.dirty = max(l.dirty-dirty, 0)
		l.mu.Unlock()
	}
	return st, err
}

// Remove deletes, from every segment, the records below the high
// watermark for which drop returns true (for example every record of one
// subject). It rolls the active segment first so that all of them are in
// sealed segments, then rewrites those as compaction does: offsets stay,
// reads skip the gaps.
func (l *Log) Remove(ctx context.Context, drop func(*Record) bool) (CompactStats, error) {
	l.cmu.Lock()
	defer l.cmu.Unlock()
	l.wmu.Lock()
	var err error
	if l.active().meta.size > 0 {
		err = l.rollLocked()
	}
	l.wmu.Unlock()
	if err != nil {
		return CompactStats{}, err
	}
	sealed, _, _, _, err := l.sealedSegments()
	if err != nil {
		return CompactStats{}, err
	}
	defer releaseAll(sealed)
	th := newThrottle(l.opts.Compaction.BytesPerSecond)
	return l.clean(ctx, sealed, cleaner{l: l, th: th, keep: func(r *Record) bool { return !drop(r) }})
}

// sealedSegments pins every segment but the active one.
func (l *Log) sealedSegments() (sealed []*segment, start, hw, dirty int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, 0, 0, 0, ErrClosed
	}
	sealed = append([]*segment(nil), l.segs[:len(l.segs)-1]...)
	for _, s := range sealed {
		s.acquire()
	}
	return sealed, l.start, l.hw, l.dirty, nil
}

func releaseAll(segs []*segment) {
	for _, s := range segs {
		s.release()
	}
}

// clean rewrites each segment with c.keep.
func (l *Log) clean(ctx context.Context, segs []*segment, c cleaner) (CompactStats, error) {
	var st CompactStats
	for _, s := range segs {
		if err := c.clean(ctx, s, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// keyMap reads the log from start to hw and maps each key to the offset
// of its newest record.
func (l *Log) keyMap(ctx context.Context, th *throttle, start, hw int64) (map[string]int64, error) {
	latest := make(map[string]int64)
	for off := start; off < hw; {
		c, err := l.Read(off, 1<<20)
		if err != nil {
			return nil, err
		}
		if len(c.Data) == 0 {
			break
		}
		if err := th.wait(ctx, len(c.Data)); err != nil {
			return nil, err
		}
		err = DecodeRecords(c.Data, off, func(r Record) bool {
			if r.Key != nil && r.Offset < hw {
				latest[string(r.Key)] = r.Offset
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		off = c.Next
	}
	return latest, nil
}

// cleaner rewrites sealed segments, keeping the records keep accepts.
type cleaner struct {
	l    *Log
	th   *throttle
	keep func(*Record) bool
}

// clean rewrites one segment if compaction would remove anything from it.
func (c *cleaner) clean(ctx context.Context, s *segment, st *CompactStats) error {
	l := c.l
	l.mu.RLock()
	meta := s.meta
	l.mu.RUnlock()
	out, removed, err := c.filter(ctx, s, meta.size)
	if err != nil || removed == 0 {
		return err
	}
	n, err := c.writeCleaned(s, out, meta)
	if err != nil {
		return err
	}
	swapped, err := l.swap(s, n, meta.size)
	if err != nil || !swapped {
		n.release()
		removeIfExists(l.fs, l.path(s.name()+cleanedSuffix))
		return err
	}
	st.Segments++
	st.RecordsRemoved += removed
	st.BytesBefore += meta.size
	st.BytesAfter += n.meta.size
	return nil
}

// filter returns the segment's batches with compacted records removed.
// A run of batches that lose every record becomes one empty batch over
// their offsets (as Kafka keeps empty batches), so the batches of a
// segment still cover its offsets without a hole: recovery and reads can
// then check that every batch starts where the previous one ended.
func (c *cleaner) filter(ctx context.Context, s *segment, size int64) ([]byte, int64, error) {
	r := chunkReader{f: s.f, size: size}
	var out []byte
	var removed int64
	var gap *batchHeader
	for pos := int64(0); pos < size; {
		b, err := r.batchAt(pos)
		if err != nil {
			return nil, 0, err
		}
		h, err := parseHeader(b)
		if err != nil || int64(h.Length) > size-pos || int(h.Length) > len(b) || !checkCRC(b[:h.Length]) {
			return nil, 0, &CorruptionError{Segment: s.name(), Pos: pos, Reason: "damaged batch found by compaction"}
		}
		if err := c.th.wait(ctx, int(h.Length)); err != nil {
			return nil, 0, err
		}
		kept, gone, err := c.filterBatch(b[:h.Length], h)
		if err != nil {
			return nil, 0, err
		}
		removed += gone
		gap, out = extendGap(gap, h, kept == nil, out)
		out = append(out, kept...)
		pos += int64(h.Length)
	}
	_, out = extendGap(gap, batchHeader{}, false, out)
	return out, removed, nil
}

// extendGap grows the run of emptied batches when empty is set, and
// otherwise closes it by appending one empty batch over its offsets.
func extendGap(gap *batchHeader, h batchHeader, empty bool, out []byte) (*batchHeader, []byte) {
	if empty {
		if gap == nil {
			g := h
			return &g, out
		}
		gap.LastDelta = int32(h.NextOffset() - 1 - gap.BaseOffset)
		gap.MaxTimestamp = max(gap.MaxTimestamp, h.MaxTimestamp)
		return gap, out
	}
	if gap != nil {
		out = appendEmptyBatch(out, *gap)
	}
	return nil, out
}

// filterBatch returns the kept part of one batch: the batch as it is when
// every record stays, a rewritten batch when some do, nil when none do.
func (c *cleaner) filterBatch(b []byte, h batchHeader) ([]byte, int64, error) {
	var kept []Record
	total := int64(0)
	err := DecodeRecords(b, 0, func(r Record) bool {
		total++
		if c.keep(&r) {
			kept = append(kept, r)
		}
		return true
	})
	switch {
	case err != nil:
		return nil, 0, err
	case int64(len(kept)) == total && total > 0:
		return b, 0, nil
	case len(kept) == 0:
		return nil, total, nil
	}
	return encodeBatch(nil, kept, 0, h, true), total - int64(len(kept)), nil
}

// writeCleaned writes the compacted segment beside the old one and builds
// its index.
func (c *cleaner) writeCleaned(s *segment, out []byte, old segMeta) (*segment, error) {
	l := c.l
	f, err := l.fs.Create(l.path(s.name() + cleanedSuffix))
	if err != nil {
		return nil, err
	}
	n := newSegment(l.dir, s.base, f)
	if err := c.th.wait(context.Background(), len(out)); err != nil {
		n.release()
		return nil, err
	}
	if _, err = f.WriteAt(out, 0); err == nil {
		err = f.Sync()
	}
	if err != nil {
		n.release()
		return nil, fmt.Errorf("log: write compacted %s: %w", s.name(), err)
	}
	for pos, b := int64(0), out; len(b) > 0; {
		h, _ := parseHeader(b)
		n.addBatch(pos, &h, l.opts.IndexInterval)
		pos += int64(h.Length)
		b = b[h.Length:]
	}
	return n, nil
}

// swap replaces s with its compacted version n, unless truncation or
// retention changed s meanwhile. Caller holds cmu.
func (l *Log) swap(s, n *segment, size int64) (bool, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.RLock()
	i := l.indexOf(s)
	ok := i >= 0 && i < len(l.segs)-1 && s.meta.size == size
	l.mu.RUnlock()
	if !ok {
		return false, nil
	}
	if err := removeIfExists(l.fs, s.indexPath()); err != nil {
		return false, err
	}
	if err := l.fs.Rename(l.path(s.name()+cleanedSuffix), s.path()); err != nil {
		return false, err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return false, err
	}
	l.mu.Lock()
	l.segs[i] = n
	l.mu.Unlock()
	s.release()
	return true, n.writeIndex(l.fs)
}

// indexOf returns the position of s in segs, or -1. Caller holds mu.
func (l *Log) indexOf(s *segment) int {
	for i, x := range l.segs {
		if x == s {
			return i
		}
	}
	return -1
}

// throttle bounds the bytes per second of background I/O.
type throttle struct {
	rate  int64
	start time.Time
	bytes int64
}

func newThrottle(rate int64) *throttle { return &throttle{rate: rate, start: time.Now()} }

// wait accounts n bytes and sleeps until they fit the rate.
func (t *throttle) wait(ctx context.Context, n int) error {
	t.bytes += int64(n)
	due := t.start.Add(time.Duration(float64(t.bytes) / float64(t.rate) * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
