package log

import (
	"fmt"
)

// Truncate removes every record at or after off, so that the high
// watermark becomes off (replication uses it to cut a diverged tail). A
// batch that straddles off is rewritten without its later records.
// Appends queued before Truncate are written first; the change is durable
// when Truncate returns.
func (l *Log) Truncate(off int64) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.drainLocked(); err != nil {
		return err
	}
	defer l.amu.Unlock()
	l.mu.RLock()
	start, hw := l.start, l.hw
	l.mu.RUnlock()
	if off < start || off > hw {
		return fmt.Errorf("%w: truncate to %d outside [%d, %d]", ErrOffsetOutOfRange, off, start, hw)
	}
	if off == hw {
		return nil
	}
	if err := l.truncateLocked(off); err != nil {
		err = fmt.Errorf("%w: truncate: %w", ErrFailed, err)
		if l.q.err == nil {
			l.q.err = err
		}
		return err
	}
	l.q.next = off
	return nil
}

// drainLocked flushes queued appends and returns with amu held and the
// queue empty, so that no offset can be assigned until amu is released.
// Caller holds wmu.
func (l *Log) drainLocked() error {
	for {
		l.amu.Lock()
		if err := l.refusal(); err != nil {
			l.amu.Unlock()
			return err
		}
		if l.q.cur.size == 0 && len(l.written) == 0 {
			return nil
		}
		l.amu.Unlock()
		if err := l.flushLocked(); err != nil {
			return err
		}
	}
}

// truncateLocked cuts the segment files. Caller holds wmu and amu.
func (l *Log) truncateLocked(off int64) error {
	l.mu.Lock()
	i := max(l.findLocked(off), 0)
	if l.segs[i].base > off && i > 0 {
		i--
	}
	s, later := l.segs[i], append([]*segment(nil), l.segs[i+1:]...)
	l.segs = l.segs[:i+1]
	l.hw = min(l.hw, off)
	l.mu.Unlock()
	for _, g := range later {
		if err := l.dropSegment(g); err != nil {
			return err
		}
	}
	if err := removeIfExists(l.fs, s.indexPath()); err != nil {
		return err
	}
	if err := l.cutSegment(s, off); err != nil {
		return err
	}
	if err := l.endAt(s, off); err != nil {
		return err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return err
	}
	l.mu.Lock()
	l.hw = off
	l.wakeLocked()
	l.mu.Unlock()
	return nil
}

// endAt makes s end exactly at off when off falls in a compaction gap
// after its last batch, by appending an empty batch over the gap: the last
// segment must end at the high watermark, and every segment where the
// next one starts.
func (l *Log) endAt(s *segment, off int64) error {
	if s.meta.next >= off {
		return nil
	}
	ts := max(s.meta.maxTS, 0)
	h := batchHeader{BaseOffset: s.meta.next, LastDelta: int32(off - 1 - s.meta.next), BaseTimestamp: ts,
		MaxTimestamp: ts, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	if _, err := s.f.WriteAt(appendEmptyBatch(nil, h), s.meta.size); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	_, err := s.rescan(l)
	return err
}

func (l *Log) dropSegment(s *segment) error {
	if err := removeIfExists(l.fs, s.indexPath()); err != nil {
		return err
	}
	if err := removeIfExists(l.fs, s.path()); err != nil {
		return err
	}
	s.release()
	return nil
}

// cutSegment removes the records at or after off from s, rewriting a
// straddling batch, then rescans s to rebuild its meta and index.
func (l *Log) cutSegment(s *segment, off int64) error {
	l.mu.RLock()
	e, end := s.seek(off), s.meta.size
	l.mu.RUnlock()
	cut, err := l.cutPoint(s, e.pos, end, off)
	if err != nil {
		return err
	}
	if err := s.f.Truncate(cut); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	res, err := s.rescan(l)
	if err == nil && res.bad {
		err = &CorruptionError{Segment: s.name(), Pos: res.end, Reason: res.reason}
	}
	return err
}

// cutPoint finds the batch holding off and returns where the segment
// should end, rewriting that batch in place if off falls inside it.
func (l *Log) cutPoint(s *segment, pos, end, off int64) (int64, error) {
	var hdr [BatchHeaderSize]byte
	for pos < end {
		h, err := s.headerAt(hdr[:], pos, end)
		if err != nil {
			return 0, err
		}
		if h.NextOffset() > off {
			if h.BaseOffset >= off {
				return pos, nil
			}
			return l.rewriteHead(s, pos, h, off)
		}
		pos += int64(h.Length)
	}
	return pos, nil
}

// rewriteHead rewrites the batch at pos keeping only records below off.
func (l *Log) rewriteHead(s *segment, pos int64, h batchHeader, off int64) (int64, error) {
	buf := make([]byte, h.Length)
	if _, err := s.f.ReadAt(buf, pos); err != nil {
		return 0, err
	}
	var keep []Record
	err := DecodeRecords(buf, 0, func(r Record) bool {
		if r.Offset < off {
			keep = append(keep, r)
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if len(keep) == 0 {
		return pos, nil
	}
	tmpl := h
	tmpl.LastDelta = int32(off - 1 - h.BaseOffset)
	nb := encodeBatch(nil, keep, 0, tmpl, true)
	if _, err := s.f.WriteAt(nb, pos); err != nil {
		return 0, err
	}
	return pos + int64(len(nb)), nil
}

// rescan rebuilds the segment's meta and index from its file.
func (s *segment) rescan(l *Log) (scanResult, error) {
	size, err := s.f.Size()
	if err != nil {
		return scanResult{}, err
	}
	s.hints.reset()
	fresh := newSegment(s.dir, s.base, s.f)
	res, err := fresh.scan(size, l.opts.IndexInterval)
	if err != nil {
		return res, err
	}
	l.mu.Lock()
	s.meta, s.index, s.lastIdx = fresh.meta, fresh.index, fresh.lastIdx
	l.mu.Unlock()
	return res, nil
}
