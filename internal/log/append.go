package log

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// queue is the group being assembled for the writer. Appenders copy their
// batch into cur.buf and take offsets under amu; the writer swaps cur for
// an empty group, writes it with one write and one fsync, and wakes every
// appender of the group at once by closing done.
type queue struct {
	cur    *group
	count  int    // batches in cur
	spare  []byte // the last written group's buffer, for reuse
	next   int64  // next offset to assign
	err    error  // set when a write or sync failed: refuse appends
	closed bool
}

type group struct {
	buf  []byte
	next int64 // offset after the group's last batch
	done chan struct{}
	err  error
}

var encodePool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

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
	bp := encodePool.Get().(*[]byte)
	b := EncodeBatch((*bp)[:0], recs, l.opts.Now().UnixMilli())
	base, done, err := l.enqueue(b, check)
	*bp = b
	encodePool.Put(bp)
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
	at := len(g.buf)
	g.buf = append(g.buf, b...)
	setBaseOffset(g.buf[at:], base)
	l.q.next += int64(h.LastDelta) + 1
	l.q.count++
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

// wait returns once the group is written and synced, or ctx ends.
func (g *group) wait(ctx context.Context) error {
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer is the goroutine that performs group commits.
//
// Under SyncAlways it gathers before it writes: when an fsync completes,
// the appenders it releases need a moment to come back with their next
// record, while those that queued during the fsync are ready at once.
// Flushing at once would split the appenders into two halves that
// alternate, each fsync carrying half of them. So the writer waits until
// as many batches are queued as were active around the last fsync (those
// it released plus those queued meanwhile), or for as long as the last
// write and fsync took (20µs to 2ms), whichever comes first. Under a light
// load the released appenders do not come back soon and the wait would
// only add latency: after a wait that ran out, the writer skips waiting
// for 1, 2, 4 ... up to 64 cycles, and a wait that succeeds resets that.
func (l *Log) writer() {
	defer l.wg.Done()
	var want, skip, backoff int
	var lastSync time.Duration
	for {
		select {
		case <-l.kick:
		case <-l.stop:
			return
		}
		switch {
		case l.opts.Sync != SyncAlways || want <= 1:
		case skip > 0:
			skip--
		case l.gather(want, lastSync):
			backoff = 0
		default:
			backoff = min(max(2*backoff, 1), 64)
			skip = backoff
		}
		l.wmu.Lock()
		start := time.Now()
		released, _ := l.flushLocked()
		lastSync = time.Since(start)
		l.wmu.Unlock()
		want = released + l.lastQueued
	}
}

func (l *Log) queued() int {
	l.amu.Lock()
	defer l.amu.Unlock()
	return l.q.count
}

// gather waits up to wait for want batches to be queued, and reports
// whether they came.
func (l *Log) gather(want int, wait time.Duration) bool {
	wait = min(max(wait, 20*time.Microsecond), 2*time.Millisecond)
	t := time.NewTimer(wait)
	defer t.Stop()
	for l.queued() < want {
		select {
		case <-l.kick:
		case <-t.C:
			return false
		case <-l.stop:
			return false
		}
	}
	return true
}

// flushLocked writes the current group, if any, and returns how many
// batches it held. Caller holds wmu.
func (l *Log) flushLocked() (int, error) {
	l.amu.Lock()
	g, n := l.q.cur, l.q.count
	if len(g.buf) == 0 {
		l.amu.Unlock()
		return 0, nil
	}
	l.q.cur, l.q.count = &group{buf: l.q.spare[:0], done: make(chan struct{})}, 0
	failed := l.q.err
	l.amu.Unlock()

	err := failed
	if err == nil {
		if err = l.writeGroup(g); err != nil {
			err = fmt.Errorf("%w: %w", ErrFailed, err)
			l.fail(err)
		}
	}
	l.lastQueued = l.queued() // queued during the write, before any is released
	g.err = err
	close(g.done)
	l.amu.Lock()
	l.q.spare = g.buf
	l.amu.Unlock()
	return n, err
}

// fail refuses every later append until the log is reopened.
func (l *Log) fail(err error) {
	l.amu.Lock()
	if l.q.err == nil {
		l.q.err = err
	}
	l.amu.Unlock()
}

// writeGroup rolls if needed, writes and syncs g, then publishes it to
// readers. Caller holds wmu.
func (l *Log) writeGroup(g *group) error {
	s := l.active()
	if l.shouldRoll(s, len(g.buf)) {
		if err := l.rollLocked(); err != nil {
			return err
		}
		s = l.active()
	}
	pos := s.meta.size
	if _, err := s.f.WriteAt(g.buf, pos); err != nil {
		return fmt.Errorf("write segment %s: %w", s.name(), err)
	}
	if l.opts.Sync == SyncAlways {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("sync segment %s: %w", s.name(), err)
		}
	}
	l.publish(s, pos, g)
	return nil
}

// publish indexes the batches of a written group and moves the high
// watermark. Caller holds wmu.
func (l *Log) publish(s *segment, pos int64, g *group) {
	l.mu.Lock()
	for b := g.buf; len(b) > 0; {
		h, _ := parseHeader(b)
		s.addBatch(pos, &h, l.opts.IndexInterval)
		pos += int64(h.Length)
		b = b[h.Length:]
	}
	l.hw = g.next
	l.dirty += int64(len(g.buf))
	l.wakeLocked()
	l.mu.Unlock()
}

func (l *Log) shouldRoll(s *segment, n int) bool {
	if s.meta.size == 0 {
		return false
	}
	if s.meta.size+int64(n) > l.opts.MaxSegmentBytes {
		return true
	}
	age := l.opts.MaxSegmentAge
	return age > 0 && s.meta.firstTS >= 0 && l.opts.Now().UnixMilli()-s.meta.firstTS >= age.Milliseconds()
}

// rollLocked seals the active segment (sync, index) and starts a new one.
// Caller holds wmu.
func (l *Log) rollLocked() error {
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
