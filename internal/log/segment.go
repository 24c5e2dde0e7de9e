package log

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/courier-mq/courier/internal/vfs"
)

const (
	segSuffix     = ".log"
	indexSuffix   = ".index"
	cleanedSuffix = ".cleaned"
)

// segment is one file of the log. The Log's mu guards the mutable fields;
// the file itself is read with ReadAt without any lock, bounded by a size
// read under mu. A segment is reference-counted so that readers keep a
// file open after retention or compaction has replaced it.
type segment struct {
	base int64
	dir  string
	f    vfs.File
	refs atomic.Int32

	// Guarded by Log.mu.
	meta    segMeta
	index   []indexEntry
	lastIdx int64 // position of the last index entry, -1 if none

	hints readHints
}

// readHints remember where recent reads ended (offset and byte position
// of the next batch), so that a reader going on from there starts at the
// right batch instead of scanning headers from the last index entry.
type readHints struct {
	mu   sync.Mutex
	at   [8]indexEntry
	next int
}

func (h *readHints) find(off int64) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.at {
		if e.off == off && e.pos > 0 {
			return e.pos, true
		}
	}
	return 0, false
}

func (h *readHints) add(off, pos int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.at[h.next] = indexEntry{off: off, pos: pos}
	h.next = (h.next + 1) % len(h.at)
}

// reset forgets every hint: the segment's bytes changed.
func (h *readHints) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.at = [8]indexEntry{}
}

func segName(base int64) string   { return fmt.Sprintf("%020d%s", base, segSuffix) }
func indexName(base int64) string { return fmt.Sprintf("%020d%s", base, indexSuffix) }

func (s *segment) name() string      { return segName(s.base) }
func (s *segment) path() string      { return filepath.Join(s.dir, segName(s.base)) }
func (s *segment) indexPath() string { return filepath.Join(s.dir, indexName(s.base)) }

// parseSegName returns the base offset of a segment file name.
func parseSegName(name string) (int64, bool) {
	num, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(num) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(num, 10, 64)
	return base, err == nil && base >= 0
}

func newSegment(dir string, base int64, f vfs.File) *segment {
	s := &segment{base: base, dir: dir, f: f, lastIdx: -1}
	s.meta = segMeta{next: base, maxTS: -1, firstTS: -1}
	s.refs.Store(1)
	return s
}

func (s *segment) acquire() { s.refs.Add(1) }

// release drops a reference and closes the file with the last one.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.f.Close()
	}
}

// addBatch records a batch written at pos in the segment's meta and index.
// Caller holds Log.mu (or owns the segment exclusively).
func (s *segment) addBatch(pos int64, h *batchHeader, interval int64) {
	if s.meta.firstTS < 0 {
		s.meta.firstTS = h.BaseTimestamp
	}
	if h.MaxTimestamp > s.meta.maxTS {
		s.meta.maxTS = h.MaxTimestamp
	}
	if s.lastIdx < 0 || pos-s.lastIdx >= interval {
		s.index = append(s.index, indexEntry{off: h.BaseOffset, pos: pos, ts: s.meta.maxTS})
		s.lastIdx = pos
	}
	s.meta.size = pos + int64(h.Length)
	s.meta.next = h.NextOffset()
	s.meta.count += int64(h.Count)
}

// writeIndex persists the index; the segment must not change afterwards
// until the index file is removed.
func (s *segment) writeIndex(fs vfs.FS) error {
	return writeFileSync(fs, s.indexPath(), encodeIndex(s.base, s.index, s.meta))
}

// loadIndex reads a valid index whose recorded size matches the file.
func (s *segment) loadIndex(fs vfs.FS, fileSize int64) bool {
	b, err := readFile(fs, s.indexPath())
	if err != nil {
		return false
	}
	entries, m, err := decodeIndex(s.base, b)
	if err != nil || m.size != fileSize || m.next < s.base {
		return false
	}
	s.index, s.meta = entries, m
	if len(entries) > 0 {
		s.lastIdx = entries[len(entries)-1].pos
	}
	return true
}

// start returns where a scan for offset may begin.
func (s *segment) seek(offset int64) indexEntry {
	e := seekIndex(s.index, offset)
	if e.off == 0 && e.pos == 0 {
		e.off = s.base
	}
	return e
}
