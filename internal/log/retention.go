package log

import (
	"context"
	"fmt"
	"time"
)

// janitor applies retention, and compaction when enabled, in the
// background.
func (l *Log) janitor() {
	defer l.wg.Done()
	every := l.opts.JanitorInterval
	if l.opts.Compaction.Enabled {
		every = min(every, l.opts.Compaction.Interval)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-l.stop
		cancel()
	}()
	for {
		select {
		case <-t.C:
		case <-l.stop:
			return
		}
		l.ApplyRetention()
		if l.opts.Compaction.Enabled && l.dirtyBytes() >= l.opts.Compaction.MinDirtyBytes {
			l.Compact(ctx)
		}
	}
}

func (l *Log) dirtyBytes() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.dirty
}

// ApplyRetention removes the oldest segments that are past the retention
// limits and returns how many it removed.
func (l *Log) ApplyRetention() (int, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.isClosed() {
		return 0, ErrClosed
	}
	n := l.expiredLocked()
	if n == len(l.segs) {
		if l.active().meta.size > 0 {
			if err := l.rollLocked(); err != nil {
				l.fail(fmt.Errorf("%w: %w", ErrFailed, err))
				return 0, err
			}
		}
		n = len(l.segs) - 1
	}
	if n == 0 {
		return 0, nil
	}
	return n, l.removeFirstLocked(n, l.segs[n].base)
}

func (l *Log) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}

// expiredLocked counts the leading segments that retention removes. The
// active segment counts only under MaxAge. Caller holds wmu.
func (l *Log) expiredLocked() int {
	r := l.opts.Retention
	var bytes, records int64
	for _, s := range l.segs {
		bytes += s.meta.size
		records += s.meta.count
	}
	now := l.opts.Now().UnixMilli()
	n := 0
	for i, s := range l.segs {
		last := i == len(l.segs)-1
		aged := r.MaxAge > 0 && s.meta.maxTS >= 0 && now-s.meta.maxTS > r.MaxAge.Milliseconds()
		big := !last && r.MaxBytes > 0 && bytes-s.meta.size >= r.MaxBytes
		many := !last && r.MaxRecords > 0 && records-s.meta.count >= r.MaxRecords
		if !aged && !big && !many {
			break
		}
		bytes -= s.meta.size
		records -= s.meta.count
		n++
	}
	return n
}

// removeFirstLocked drops the first n segments and moves the start offset
// to at least newStart. Files are deleted at once; readers still holding a
// segment keep reading its open file. Caller holds wmu.
func (l *Log) removeFirstLocked(n int, newStart int64) error {
	l.mu.Lock()
	gone := append([]*segment(nil), l.segs[:n]...)
	l.segs = append(l.segs[:0:0], l.segs[n:]...)
	l.start = max(l.start, newStart)
	l.mu.Unlock()
	for _, s := range gone {
		if err := removeIfExists(l.fs, s.indexPath()); err != nil {
			return err
		}
		if err := removeIfExists(l.fs, s.path()); err != nil {
			return err
		}
		s.release()
	}
	return l.fs.SyncDir(l.dir)
}

// AdvanceStart moves the start offset forward to off (at most the high
// watermark), as Kafka's DeleteRecords does: records below it can no
// longer be read, and whole segments below it are removed. The new start
// is durable when AdvanceStart returns.
func (l *Log) AdvanceStart(off int64) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.isClosed() {
		return ErrClosed
	}
	l.mu.RLock()
	start, hw := l.start, l.hw
	l.mu.RUnlock()
	if off <= start {
		return nil
	}
	if off > hw {
		return fmt.Errorf("%w: start %d beyond high watermark %d", ErrOffsetOutOfRange, off, hw)
	}
	if err := l.writeStart(off); err != nil {
		return fmt.Errorf("log: record start offset: %w", err)
	}
	if off == hw && l.active().meta.size > 0 {
		if err := l.rollLocked(); err != nil {
			return err
		}
	}
	n := 0
	for n < len(l.segs)-1 && l.segs[n+1].base <= off {
		n++
	}
	return l.removeFirstLocked(n, off)
}
