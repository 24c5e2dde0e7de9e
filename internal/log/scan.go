package log

import (
	"fmt"
)

const scanChunk = 1 << 20

// scanResult is what a full scan of a segment found.
type scanResult struct {
	end    int64  // end of the last whole, valid batch
	bad    bool   // a damaged batch starts at end
	reason string // why it is damaged
}

// scan reads a segment from the start, validating every batch and
// rebuilding the segment's meta and index. It stops at the first damaged
// or incomplete batch. Caller owns the segment exclusively.
func (s *segment) scan(fileSize, interval int64) (scanResult, error) {
	s.index, s.lastIdx = nil, -1
	s.meta = segMeta{next: s.base, maxTS: -1, firstTS: -1}
	r := chunkReader{f: s.f, size: fileSize}
	pos := int64(0)
	for pos < fileSize {
		b, err := r.batchAt(pos)
		if err != nil {
			return scanResult{}, err
		}
		if reason := s.checkBatch(b, fileSize-pos, true); reason != "" {
			return scanResult{end: pos, bad: true, reason: reason}, nil
		}
		h, _ := parseHeader(b)
		s.addBatch(pos, &h, interval)
		pos += int64(h.Length)
	}
	return scanResult{end: pos}, nil
}

// checkBatch says what is wrong with the batch at the start of b, or "".
// remain is the number of bytes left in the file from that position. With
// exact, the batch must start at the segment's next offset; without, at or
// after it.
func (s *segment) checkBatch(b []byte, remain int64, exact bool) string {
	if remain < BatchHeaderSize {
		return fmt.Sprintf("%d bytes left, less than a batch header", remain)
	}
	h, err := parseHeader(b)
	if err != nil {
		return err.Error()
	}
	if int64(h.Length) > remain {
		return fmt.Sprintf("batch of %d bytes runs past the end of the file", h.Length)
	}
	if int(h.Length) > len(b) {
		return "batch not read whole"
	}
	if !checkCRC(b[:h.Length]) {
		return "CRC mismatch"
	}
	if h.BaseOffset < s.meta.next || (exact && h.BaseOffset != s.meta.next) {
		return fmt.Sprintf("base offset %d, expected %d", h.BaseOffset, s.meta.next)
	}
	return ""
}

// validBatchAfter reports whether any whole, valid batch that could follow
// the segment's last good batch starts after pos: if one does, the damage
// at pos is not a torn tail but corruption.
func (s *segment) validBatchAfter(pos, fileSize int64) (bool, error) {
	if fileSize-pos <= BatchHeaderSize {
		return false, nil
	}
	tail := make([]byte, fileSize-pos)
	if _, err := s.f.ReadAt(tail, pos); err != nil {
		return false, err
	}
	for i := 1; i+BatchHeaderSize <= len(tail); i++ {
		if tail[i+OffMagic] != magicV2 {
			continue
		}
		if s.checkBatch(tail[i:], int64(len(tail)-i), false) == "" {
			return true, nil
		}
	}
	return false, nil
}

// chunkReader reads whole batches from a file through a large buffer.
type chunkReader struct {
	f interface {
		ReadAt([]byte, int64) (int, error)
	}
	size  int64
	buf   []byte
	start int64 // file position of buf[0]
}

// batchAt returns the bytes from pos: at least the whole batch starting
// there when the file holds it, else whatever remains.
func (r *chunkReader) batchAt(pos int64) ([]byte, error) {
	b := r.cached(pos)
	if len(b) < BatchHeaderSize && pos+int64(len(b)) < r.size {
		if err := r.fill(pos, BatchHeaderSize); err != nil {
			return nil, err
		}
		b = r.cached(pos)
	}
	h, err := parseHeader(b)
	if err == nil && int64(len(b)) < int64(h.Length) && pos+int64(h.Length) <= r.size {
		if err := r.fill(pos, int64(h.Length)); err != nil {
			return nil, err
		}
		b = r.cached(pos)
	}
	return b, nil
}

func (r *chunkReader) cached(pos int64) []byte {
	if pos < r.start || pos >= r.start+int64(len(r.buf)) {
		return nil
	}
	return r.buf[pos-r.start:]
}

func (r *chunkReader) fill(pos, need int64) error {
	n := min(max(need, scanChunk), r.size-pos)
	if int64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	r.buf, r.start = r.buf[:n], pos
	if got, err := r.f.ReadAt(r.buf, pos); int64(got) < n {
		return fmt.Errorf("log: read segment at %d: %w", pos, err)
	}
	return nil
}
