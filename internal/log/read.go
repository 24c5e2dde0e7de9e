package log

import (
	"fmt"
	"io"
)

// Chunk is the result of a Read: whole stored batches, as written.
type Chunk struct {
	// Data holds whole batches. The first may start before the requested
	// offset (a batch is never split); DecodeRecords skips those records.
	Data []byte
	// Next is the offset after the last batch in Data: where to read next.
	Next int64
	// HighWatermark and StartOffset as of the read.
	HighWatermark int64
	StartOffset   int64
}

// Read returns stored batches from the one holding offset, up to maxBytes
// (but always at least one whole batch). Reading at the high watermark
// returns an empty chunk; Wait for more. Offsets below the start offset or
// above the high watermark are ErrOffsetOutOfRange. Every returned batch
// has had its checksum verified; a mismatch is a *CorruptionError.
func (l *Log) Read(offset int64, maxBytes int) (Chunk, error) {
	return l.ReadInto(nil, offset, maxBytes)
}

// ReadInto is Read into buf when it is large enough, so that a reader
// that is done with each chunk before the next can reuse one buffer.
func (l *Log) ReadInto(buf []byte, offset int64, maxBytes int) (Chunk, error) {
	for {
		c, retry, err := l.readOnce(buf, offset, maxBytes)
		if !retry {
			return c, err
		}
		offset = c.Next
	}
}

// readOnce reads from one segment. retry means the segment held nothing
// at or after offset (a compaction gap) and the caller should go on at
// c.Next.
func (l *Log) readOnce(buf []byte, offset int64, maxBytes int) (c Chunk, retry bool, err error) {
	l.mu.RLock()
	c = Chunk{Next: offset, HighWatermark: l.hw, StartOffset: l.start}
	if l.closed {
		l.mu.RUnlock()
		return c, false, ErrClosed
	}
	if offset < l.start || offset > l.hw {
		l.mu.RUnlock()
		return c, false, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, c.StartOffset, c.HighWatermark)
	}
	if offset == l.hw {
		l.mu.RUnlock()
		return c, false, nil
	}
	s := l.segs[l.findLocked(offset)]
	e, end, segNext := s.seek(offset), s.meta.size, s.meta.next
	if pos, ok := s.hints.find(offset); ok && pos < end {
		e = indexEntry{off: offset, pos: pos}
	}
	s.acquire()
	l.mu.RUnlock()
	defer s.release()

	c.Data, c.Next, err = s.read(buf, span{pos: e.pos, end: end, lo: e.off, hi: segNext}, offset, maxBytes)
	if err == nil && len(c.Data) == 0 {
		c.Next = max(segNext, offset+1)
		return c, c.Next < c.HighWatermark, nil
	}
	return c, false, err
}

// span is a part of a segment to read: bytes [pos, end) holding batches
// that cover offsets from lo, each starting where the last ended, up to at
// most hi. This catches damage to the base offset, which the CRC does not
// cover.
type span struct{ pos, end, lo, hi int64 }

// check verifies that a batch's offsets follow the previous batch's.
func (sp *span) check(s *segment, pos int64, h *batchHeader) error {
	if h.BaseOffset != sp.lo || h.NextOffset() > sp.hi {
		return &CorruptionError{Segment: s.name(), Pos: pos, Reason: fmt.Sprintf(
			"batch offsets [%d, %d), expected to start at %d and end by %d", h.BaseOffset, h.NextOffset(), sp.lo, sp.hi)}
	}
	sp.lo = h.NextOffset()
	return nil
}

// read returns whole batches from the first one that ends after offset.
func (s *segment) read(buf []byte, sp span, offset int64, maxBytes int) ([]byte, int64, error) {
	var hdr [BatchHeaderSize]byte
	for sp.pos < sp.end {
		h, err := s.headerAt(hdr[:], sp.pos, sp.end)
		if err != nil {
			return nil, offset, err
		}
		if h.NextOffset() > offset {
			data, next, err := s.readBatches(buf, sp, h, maxBytes)
			if err == nil && len(data) > 0 {
				s.hints.add(next, sp.pos+int64(len(data)))
			}
			return data, next, err
		}
		if err := sp.check(s, sp.pos, &h); err != nil {
			return nil, offset, err
		}
		sp.pos += int64(h.Length)
	}
	return nil, offset, nil
}

func (s *segment) headerAt(buf []byte, pos, end int64) (batchHeader, error) {
	if _, err := s.f.ReadAt(buf, pos); err != nil && err != io.EOF {
		return batchHeader{}, fmt.Errorf("log: read %s: %w", s.name(), err)
	}
	h, err := parseHeader(buf)
	if err == nil && pos+int64(h.Length) > end {
		err = fmt.Errorf("batch of %d bytes runs past the segment end", h.Length)
	}
	if err != nil {
		return h, &CorruptionError{Segment: s.name(), Pos: pos, Reason: err.Error()}
	}
	return h, nil
}

// readBatches reads from pos, where a batch with header first starts, up
// to maxBytes of whole batches, and verifies them.
func (s *segment) readBatches(buf []byte, sp span, first batchHeader, maxBytes int) ([]byte, int64, error) {
	pos := sp.pos
	n := min(max(int64(maxBytes), int64(first.Length)), sp.end-pos)
	if int64(cap(buf)) >= n {
		buf = buf[:n]
	} else {
		buf = make([]byte, n)
	}
	if got, err := s.f.ReadAt(buf, pos); int64(got) < n {
		return nil, 0, fmt.Errorf("log: read %s: %w", s.name(), err)
	}
	var next int64
	b := buf
	for len(b) >= BatchHeaderSize {
		h, err := parseHeader(b)
		if err != nil || int(h.Length) > len(b) {
			if err != nil || len(b) == len(buf) {
				return nil, 0, s.corruptAt(pos+int64(len(buf)-len(b)), err)
			}
			break
		}
		at := pos + int64(len(buf)-len(b))
		if !checkCRC(b[:h.Length]) {
			return nil, 0, s.corruptAt(at, fmt.Errorf("CRC mismatch in batch at offset %d", h.BaseOffset))
		}
		if err := sp.check(s, at, &h); err != nil {
			return nil, 0, err
		}
		next = h.NextOffset()
		b = b[h.Length:]
	}
	return buf[:len(buf)-len(b)], next, nil
}

func (s *segment) corruptAt(pos int64, err error) error {
	reason := "batch cut short"
	if err != nil {
		reason = err.Error()
	}
	return &CorruptionError{Segment: s.name(), Pos: pos, Reason: reason}
}

// OffsetForTime returns the first offset at or after the start offset
// whose record has a timestamp at or after ts (milliseconds), or the high
// watermark if there is none.
func (l *Log) OffsetForTime(ts int64) (int64, error) {
	from, hw := l.timeSeek(ts)
	for from < hw {
		c, err := l.Read(from, 64<<10)
		if err != nil || len(c.Data) == 0 {
			return hw, err
		}
		if off, ok, err := firstAtTime(c.Data, from, ts); ok || err != nil {
			return off, err
		}
		from = c.Next
	}
	return hw, nil
}

// timeSeek returns where a scan for ts may start: the time index entry
// before ts in the first segment that reaches ts.
func (l *Log) timeSeek(ts int64) (from, hw int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, s := range l.segs {
		if s.meta.maxTS >= ts && s.meta.next > l.start {
			e, _ := seekTime(s.index, ts)
			return max(e.off, s.base, l.start), l.hw
		}
	}
	return l.hw, l.hw
}

// firstAtTime returns the first record at or after from with a timestamp
// at or after ts in data, skipping batches whose newest record is older.
func firstAtTime(data []byte, from, ts int64) (int64, bool, error) {
	for len(data) >= BatchHeaderSize {
		h, err := parseHeader(data)
		if err != nil {
			return 0, false, err
		}
		found, ok := int64(0), false
		if h.MaxTimestamp >= ts {
			err = DecodeRecords(data[:h.Length], from, func(r Record) bool {
				found, ok = r.Offset, r.Timestamp >= ts
				return !ok
			})
		}
		if ok || err != nil {
			return found, ok, err
		}
		data = data[h.Length:]
	}
	return 0, false, nil
}
