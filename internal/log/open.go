package log

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"slices"
	"strings"

	"github.com/courier-mq/courier/internal/vfs"
)

const startFile = "start.ckpt"

// Open opens the log in dir, creating it if needed, and recovers it:
// sealed segments are trusted through their index (rebuilt if missing or
// damaged), the last segment is scanned unless its index shows a clean
// close, and a torn tail is truncated. Damage anywhere else is returned as
// a *CorruptionError.
func Open(dir string, o Options) (*Log, error) {
	opts := o.withDefaults()
	l := &Log{dir: dir, opts: opts, fs: opts.FS, kick: make(chan struct{}, 1),
		notify: make(chan struct{}), stop: make(chan struct{})}
	if err := l.makeDir(); err != nil {
		return nil, fmt.Errorf("log: create %s: %w", dir, err)
	}
	if err := l.load(); err != nil {
		for _, s := range l.segs {
			s.release()
		}
		return nil, err
	}
	last := l.active()
	l.hw = last.meta.next
	l.q = queue{cur: newGroup(), next: l.hw}
	l.startBackground()
	return l, nil
}

func (l *Log) startBackground() {
	l.wg.Add(1)
	go l.writer()
	if l.opts.Sync == SyncInterval {
		l.wg.Add(1)
		go l.syncer()
	}
	if l.opts.JanitorInterval > 0 {
		l.wg.Add(1)
		go l.janitor()
	}
}

// makeDir creates the log's directory and, if it was new, makes its name
// durable.
func (l *Log) makeDir() error {
	if _, err := l.fs.Stat(l.dir); err == nil {
		return nil
	}
	if err := l.fs.MkdirAll(l.dir); err != nil {
		return err
	}
	return l.fs.SyncDir(filepath.Dir(l.dir))
}

// load opens every segment and recovers the last one.
func (l *Log) load() error {
	bases, err := l.listSegments()
	if err != nil {
		return err
	}
	ckpt, err := l.readStart()
	if err != nil {
		return err
	}
	for i, base := range bases {
		s, err := l.openSegment(base, i == len(bases)-1)
		if err != nil {
			return err
		}
		if n := len(l.segs); n > 0 && s.base != l.segs[n-1].meta.next {
			s.release()
			return &CorruptionError{Segment: s.name(), Reason: fmt.Sprintf(
				"segment starts at offset %d but the previous one ends at %d", s.base, l.segs[n-1].meta.next)}
		}
		l.segs = append(l.segs, s)
	}
	if len(l.segs) == 0 {
		s, err := l.createSegment(ckpt)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	l.start = max(l.segs[0].base, ckpt)
	return nil
}

// listSegments returns the base offsets of the segment files, sorted, and
// removes what an interrupted compaction or roll left behind.
func (l *Log) listSegments() ([]int64, error) {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return nil, fmt.Errorf("log: list %s: %w", l.dir, err)
	}
	var bases []int64
	for _, n := range names {
		if strings.HasSuffix(n, cleanedSuffix) {
			if err := removeIfExists(l.fs, l.path(n)); err != nil {
				return nil, err
			}
			continue
		}
		if base, ok := parseSegName(n); ok {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	return bases, nil
}

// openSegment opens one segment file. The last segment's index is removed
// once loaded, because appends will make it stale.
func (l *Log) openSegment(base int64, last bool) (*segment, error) {
	f, err := l.fs.OpenReadWrite(l.path(segName(base)))
	if err != nil {
		return nil, fmt.Errorf("log: open segment: %w", err)
	}
	s := newSegment(l.dir, base, f)
	size, err := f.Size()
	if err == nil {
		err = l.recoverSegment(s, size, last)
	}
	if err == nil && last {
		err = removeIfExists(l.fs, s.indexPath())
		if err == nil {
			err = l.fs.SyncDir(l.dir)
		}
	}
	if err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// recoverSegment loads the index or rebuilds it by scanning the segment.
func (l *Log) recoverSegment(s *segment, size int64, last bool) error {
	if s.loadIndex(l.fs, size) {
		return nil
	}
	res, err := s.scan(size, l.opts.IndexInterval)
	if err != nil {
		return err
	}
	if res.bad {
		if err := l.repairTail(s, res, size, last); err != nil {
			return err
		}
	}
	if last {
		return nil
	}
	return s.writeIndex(l.fs)
}

// repairTail truncates a torn tail of the last segment. Damage followed by
// a valid batch, or damage in a sealed segment, is corruption.
func (l *Log) repairTail(s *segment, res scanResult, size int64, last bool) error {
	corrupt := &CorruptionError{Segment: s.name(), Pos: res.end, Reason: res.reason}
	if !last {
		return corrupt
	}
	later, err := s.validBatchAfter(res.end, size)
	if err != nil {
		return err
	}
	if later {
		corrupt.Reason += "; valid batches follow, so this is not a torn tail"
		return corrupt
	}
	if err := s.f.Truncate(res.end); err != nil {
		return fmt.Errorf("log: truncate torn tail of %s: %w", s.name(), err)
	}
	return s.f.Sync()
}

// readStart reads the checkpointed start offset (0 if none).
func (l *Log) readStart() (int64, error) {
	b, err := readFile(l.fs, l.path(startFile))
	if vfs.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("log: read %s: %w", startFile, err)
	}
	if len(b) != 12 || crc32.Checksum(b[:8], castagnoli) != binary.BigEndian.Uint32(b[8:]) {
		return 0, &CorruptionError{Segment: startFile, Reason: "start offset checkpoint damaged"}
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// writeStart durably records the start offset: temp file, sync, rename,
// sync the directory.
func (l *Log) writeStart(off int64) error {
	b := binary.BigEndian.AppendUint64(nil, uint64(off))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	tmp := l.path(startFile + ".tmp")
	if err := writeFileSync(l.fs, tmp, b); err != nil {
		return err
	}
	if err := l.fs.Rename(tmp, l.path(startFile)); err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}
