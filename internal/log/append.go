package log

import (
	"context"
	"fmt"
	"time"
)

// queue is the group being assembled for the writer. Appenders copy their
// batch into cur.buf and take offsets under amu; the writer swaps cur for
// an empty group and writes it (commit.go), and wakes every appender of
// the group at once by closing done once it is durable.
type queue struct {
	cur    *group
	spare  [][]byte // pieces of released groups, for reuse (group.go)
	next   int64    // next offset to assign
	err    error    // set when a write or sync failed: refuse appends
	closed bool
}

// Append stores records as one batch and returns the offset of the first.
// It returns once the batch is durable under the sync policy. A record
// with a zero Timestamp gets the log's clock. If ctx ends first the batch
// may still be stored; the caller learns nothing of its offset.
func (l *Log) Append(ctx context.Context, recs []Record) (int64, error) {
	return l.AppendIf(ctx, recs, nil)
}

// AppendIf is Append with a condition: check is called with the offset the
// batch would get, under the lock that assigns offsets, so no other append
// can come between the check and the assignment. If check returns an
// error, nothing is stored and AppendIf returns that error. check must be
// quick and must not call the log. Optimistic concurrency (expected last
// offset) and de-duplication are built on it.
func (l *Log) AppendIf(ctx context.Context, recs []Record, check func(base int64) error) (int64, error) {
	base, wait, err := l.AppendIfAsync(recs, check)
	if err != nil {
		return 0, err
	}
	return base, wait(ctx)
}

// AppendIfAsync is AppendIf in two halves: it returns as soon as the batch
// has its offsets (so batches appended one after another are stored in
// that order), with a wait function that returns once the batch is
// durable under the sync policy, or the write's error. wait may be called
// any number of times, from any goroutine.
func (l *Log) AppendIfAsync(recs []Record, check func(base int64) error) (int64, func(context.Context) error, error) {
	if len(recs) == 0 {
		return 0, nil, fmt.Errorf("%w: no records", ErrInvalidBatch)
	}
	now := l.opts.Now().UnixMilli()
	size := batchSize(recs, now)
	if size > l.opts.MaxBatchBytes {
		return 0, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, l.opts.MaxBatchBytes)
	}
	base, done, err := l.enqueueFunc(size, int64(len(recs)), check, func(dst []byte) []byte {
		return EncodeBatch(dst, recs, now)
	})
	if err != nil {
		return 0, nil, err
	}
	return base, done.wait, nil
}

// AppendBatch stores a RecordBatch v2 as it is (for example a compressed
// batch from a Kafka producer), after validating it. The base offset in b
// is ignored; b is not modified.
func (l *Log) AppendBatch(ctx context.Context, b []byte) (int64, error) {
	return l.AppendBatchIf(ctx, b, nil)
}

// AppendBatchIf is AppendBatch with a check, as AppendIf.
func (l *Log) AppendBatchIf(ctx context.Context, b []byte, check func(base int64) error) (int64, error) {
	base, wait, err := l.AppendBatchIfAsync(b, check)
	if err != nil {
		return 0, err
	}
	return base, wait(ctx)
}

// AppendBatchIfAsync is AppendBatchIf in two halves, as AppendIfAsync. b
// is copied before it returns.
func (l *Log) AppendBatchIfAsync(b []byte, check func(base int64) error) (int64, func(context.Context) error, error) {
	if err := ValidateBatch(b); err != nil {
		return 0, nil, err
	}
	base, done, err := l.enqueue(b, check)
	if err != nil {
		return 0, nil, err
	}
	return base, done.wait, nil
}

// enqueue copies one validated batch into the current group and assigns
// its offsets.
func (l *Log) enqueue(b []byte, check func(int64) error) (int64, *group, error) {
	if len(b) > l.opts.MaxBatchBytes {
		return 0, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), l.opts.MaxBatchBytes)
	}
	h, err := parseHeader(b)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrInvalidBatch, err)
	}
	return l.enqueueFunc(len(b), int64(h.LastDelta)+1, check, func(dst []byte) []byte { return append(dst, b...) })
}

// enqueueFunc appends a batch of size bytes covering n offsets to the
// current group, where put writes it (appending to dst), and assigns its
// offsets. put runs under amu: batches are encoded straight into the
// group rather than encoded elsewhere and copied in.
func (l *Log) enqueueFunc(size int, n int64, check func(int64) error, put func(dst []byte) []byte) (int64, *group, error) {
	l.amu.Lock()
	if err := l.refusal(); err != nil {
		l.amu.Unlock()
		return 0, nil, err
	}
	base, g := l.q.next, l.q.cur
	if check != nil {
		if err := check(base); err != nil {
			l.amu.Unlock()
			return 0, nil, err
		}
	}
	setBaseOffset(g.add(size, put, &l.q.spare), base)
	l.q.next += n
	g.next = l.q.next
	l.amu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	return base, g, nil
}

// refusal says why appends are refused, if they are. Caller holds amu.
func (l *Log) refusal() error {
	if l.q.closed {
		return ErrClosed
	}
	return l.q.err
}

// shouldRoll says whether a group of n bytes must go to a new segment.
// Caller holds wmu.
func (l *Log) shouldRoll(n int) bool {
	s, end := l.active(), l.writeEnd()
	if end == 0 {
		return false
	}
	if end+int64(n) > l.opts.MaxSegmentBytes {
		return true
	}
	age := l.opts.MaxSegmentAge
	return age > 0 && s.meta.firstTS >= 0 && l.opts.Now().UnixMilli()-s.meta.firstTS >= age.Milliseconds()
}

// rollLocked settles the written groups, seals the active segment (sync,
// index) and starts a new one. Caller holds wmu.
func (l *Log) rollLocked() error {
	if err := l.settleLocked(); err != nil {
		return err
	}
	old := l.active()
	if err := old.f.Sync(); err != nil {
		return fmt.Errorf("sync segment %s: %w", old.name(), err)
	}
	if err := old.writeIndex(l.fs); err != nil {
		return fmt.Errorf("write index of %s: %w", old.name(), err)
	}
	s, err := l.createSegment(old.meta.next)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.segs = append(l.segs, s)
	l.mu.Unlock()
	return nil
}

// createSegment creates an empty segment file and makes its name durable.
func (l *Log) createSegment(base int64) (*segment, error) {
	f, err := l.fs.Create(l.path(segName(base)))
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync log directory: %w", err)
	}
	return newSegment(l.dir, base, f), nil
}

// syncer fsyncs the active segment every SyncInterval (SyncInterval policy).
func (l *Log) syncer() {
	defer l.wg.Done()
	t := time.NewTicker(l.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-l.stop:
			return
		}
		l.wmu.Lock()
		if err := l.active().f.Sync(); err != nil {
			l.fail(fmt.Errorf("%w: sync: %w", ErrFailed, err))
		}
		l.wmu.Unlock()
	}
}
