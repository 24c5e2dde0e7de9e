package log

import (
	"path/filepath"
	"sort"
	"sync"

	"github.com/courier-mq/courier/internal/vfs"
)

// Log is one partition's log: a directory of segments. It is safe for
// concurrent use. See the package doc for the lock order.
type Log struct {
	dir  string
	opts Options
	fs   vfs.FS

	// wmu is the writer's mutex: it serialises every change to segment
	// files (group writes, syncs, rolls, truncation, removal, swaps).
	wmu sync.Mutex

	amu sync.Mutex // guards q
	q   queue

	kick    chan struct{} // wakes the writer; capacity 1
	written []*group      // guarded by wmu: written to the active segment, not yet published (commit.go)

	mu     sync.RWMutex // guards the fields below and every segment's meta and index
	segs   []*segment
	start  int64         // log start offset
	hw     int64         // high watermark: offsets below it are readable
	notify chan struct{} // closed and replaced when hw moves or the log closes
	closed bool
	dirty  int64 // bytes appended since the last compaction

	cmu sync.Mutex // one compaction at a time

	stop chan struct{}
	wg   sync.WaitGroup
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// StartOffset returns the first offset that can be read.
func (l *Log) StartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.start
}

// HighWatermark returns the offset after the last readable record. Under
// SyncAlways every record below it is durable.
func (l *Log) HighWatermark() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.hw
}

// Stats describe a log at one moment.
type Stats struct {
	StartOffset   int64
	HighWatermark int64
	Segments      int
	Bytes         int64
	Records       int64 // records stored (compaction lowers it)
	OldestTime    int64 // ms; newest timestamp of the first segment, -1 if empty
	NewestTime    int64 // ms, -1 if empty
}

// Stats returns the log's current offsets and sizes.
func (l *Log) Stats() Stats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	st := Stats{StartOffset: l.start, HighWatermark: l.hw, Segments: len(l.segs), OldestTime: -1, NewestTime: -1}
	for _, s := range l.segs {
		st.Bytes += s.meta.size
		st.Records += s.meta.count
		if s.meta.maxTS > st.NewestTime {
			st.NewestTime = s.meta.maxTS
		}
	}
	if len(l.segs) > 0 {
		st.OldestTime = l.segs[0].meta.maxTS
	}
	return st
}

// Wait blocks until a record at offset or beyond is readable, the log is
// closed (ErrClosed) or ctx is done. It never spins: it sleeps on a
// channel that the writer closes when the high watermark moves.
func (l *Log) Wait(ctx interface {
	Done() <-chan struct{}
	Err() error
}, offset int64) error {
	for {
		l.mu.RLock()
		hw, closed, ch := l.hw, l.closed, l.notify
		l.mu.RUnlock()
		if closed {
			return ErrClosed
		}
		if hw > offset {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// wakeLocked wakes every Wait. Caller holds mu.
func (l *Log) wakeLocked() {
	close(l.notify)
	l.notify = make(chan struct{})
}

// active returns the last segment. Caller holds wmu or mu.
func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// findLocked returns the index of the segment that holds offset, or the
// first segment after a gap. Caller holds mu.
func (l *Log) findLocked(offset int64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	for i = max(i, 0); i < len(l.segs)-1 && offset >= l.segs[i].meta.next; i++ {
	}
	return i
}

// Close flushes queued appends, syncs, writes the active segment's index
// and closes the files. Appends after Close fail with ErrClosed.
func (l *Log) Close() error {
	l.amu.Lock()
	if l.q.closed {
		l.amu.Unlock()
		return ErrClosed
	}
	l.q.closed = true
	l.amu.Unlock()
	close(l.stop)
	l.wg.Wait()

	l.wmu.Lock()
	defer l.wmu.Unlock()
	err := l.flushLocked()
	l.amu.Lock()
	failed := l.q.err
	l.amu.Unlock()
	if err == nil && failed == nil {
		err = l.closeActiveLocked()
	}
	l.mu.Lock()
	l.closed = true
	l.wakeLocked()
	for _, s := range l.segs {
		s.release()
	}
	l.segs = nil
	l.mu.Unlock()
	return err
}

// closeActiveLocked syncs the active segment and persists its index, so
// that the next Open need not scan it. Caller holds wmu.
func (l *Log) closeActiveLocked() error {
	s := l.active()
	if err := s.f.Sync(); err != nil {
		return err
	}
	if err := s.writeIndex(l.fs); err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}

func (l *Log) path(name string) string { return filepath.Join(l.dir, name) }

// removeIfExists removes a file, ignoring its absence.
func removeIfExists(fs vfs.FS, path string) error {
	if err := fs.Remove(path); err != nil && !vfs.IsNotExist(err) {
		return err
	}
	return nil
}
