package log

import (
	"fmt"
	"time"
)

// Group commit.
//
// Appenders queue their batches in the current group (append.go). The
// writer goroutine takes the group, writes it to the active segment with
// one write, and, once it is durable under the sync policy, publishes it
// (indexes its batches and moves the high watermark) and wakes its
// appenders by closing the group's done channel.
//
// Under SyncAlways the writer pipelines: the write of a group overlaps
// the fsync of the groups written before it. A cycle starts one fsync
// covering every group written so far; while it runs, the writer writes
// the groups queued meanwhile (those of at least writeAheadBytes; smaller
// ones wait for the next cycle, which writes them before its fsync). The
// next cycle's fsync covers them. So the disk is not idle while the next
// group is copied into the page cache, and a group is acknowledged only by
// an fsync that started after its write returned.
//
// Written groups that are not yet published (l.written) lie beyond the
// active segment's published size. Whatever changes segment files (a roll,
// Truncate, Close) first settles them (settleLocked): syncs and publishes
// them, so that the published size is the file's end again.
//
// Once a write or fsync fails, nothing more is published: every written
// and queued group fails, and so does every later append (ErrFailed),
// until the log is reopened.

// writeAheadBytes is the smallest queued group the writer writes while an
// fsync runs: overlapping a small write gains little and costs a system
// call per wakeup.
const writeAheadBytes = 64 << 10

// gatherBytes ends a gather early: an fsync that carries this much is
// long enough that waiting for more batches would idle the disk for
// little (a Kafka producer's 1 MiB batches never wait).
const gatherBytes = 1 << 20

// cycle is what one commit cycle did, for the gather of the next one.
type cycle struct {
	released     int // batches made durable and released
	arrived      int // batches written or queued while the fsync ran
	written      int // batches written, not yet synced, at the end
	writtenBytes int
	more         bool
	took         time.Duration
}

// writer is the goroutine that performs group commits.
//
// Under SyncAlways it gathers before an fsync: when an fsync completes,
// the appenders it releases need a moment to come back with their next
// batch, while those that arrived during the fsync are ready at once.
// Syncing at once would split the appenders into two halves that
// alternate, each fsync carrying half of them. So the writer waits until
// as many batches are written or queued as were active around the last
// fsync (those it released plus those that arrived meanwhile), or for as
// long as the last cycle took (20µs to 2ms), or until gatherBytes are
// written or queued, whichever comes first. Under
// a light load the released appenders do not come back soon and the wait
// would only add latency: after a wait that ran out, the writer skips
// waiting for 1, 2, 4 ... up to 64 cycles, and a wait that succeeds
// resets that.
func (l *Log) writer() {
	defer l.wg.Done()
	var last cycle
	var skip, backoff int
	for {
		if !last.more {
			select {
			case <-l.kick:
			case <-l.stop:
				return
			}
		} else if l.stopping() {
			return
		}
		want := last.released + last.arrived
		switch {
		case l.opts.Sync != SyncAlways || want <= 1:
		case skip > 0:
			skip--
		case l.gather(want, last):
			backoff = 0
		default:
			backoff = min(max(2*backoff, 1), 64)
			skip = backoff
		}
		l.wmu.Lock()
		start := time.Now()
		last = l.cycleLocked()
		last.took = time.Since(start)
		l.wmu.Unlock()
	}
}

func (l *Log) stopping() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// queued returns how many batches wait in the current group.
func (l *Log) queued() int {
	n, _ := l.queuedSize()
	return n
}

// queuedSize returns how many batches and bytes wait in the current group.
func (l *Log) queuedSize() (int, int) {
	l.amu.Lock()
	defer l.amu.Unlock()
	return l.q.cur.count, l.q.cur.size
}

// gather waits up to the last cycle's duration for want batches, or
// gatherBytes, to be written (last.written of them are) or queued, and
// reports whether they came.
func (l *Log) gather(want int, last cycle) bool {
	came := func() bool {
		n, size := l.queuedSize()
		return last.written+n >= want || last.writtenBytes+size >= gatherBytes
	}
	if came() {
		return true
	}
	t := time.NewTimer(min(max(last.took, 20*time.Microsecond), 2*time.Millisecond))
	defer t.Stop()
	for !came() {
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

// cycleLocked writes the queued group and, under SyncAlways, makes every
// written group durable with one fsync, writing the groups queued
// meanwhile. Caller holds wmu.
func (l *Log) cycleLocked() cycle {
	l.writeQueuedLocked(false)
	if l.opts.Sync != SyncAlways {
		n := batches(l.written)
		l.settleLocked()
		return cycle{released: n, more: l.queued() > 0}
	}
	n := len(l.written)
	if n == 0 {
		return cycle{more: l.queued() > 0}
	}
	l.syncFailed(l.syncAheadLocked())
	n = min(n, len(l.written)) // a failed write ahead failed every written group
	c := cycle{released: batches(l.written[:n])}
	c.arrived = batches(l.written[n:]) + l.queued() // before any is released
	l.finishLocked(n)
	c.written, c.writtenBytes = batches(l.written), bytesOf(l.written)
	c.more = c.written > 0 || l.queued() > 0
	return c
}

// syncAheadLocked fsyncs the active segment and, while the fsync runs,
// writes the groups queued meanwhile. Caller holds wmu.
func (l *Log) syncAheadLocked() error {
	f := l.active().f
	done := make(chan error, 1)
	go func() { done <- f.Sync() }()
	for {
		select {
		case err := <-done:
			return err
		case <-l.kick:
			l.writeQueuedLocked(true)
		}
	}
}

// flushLocked writes the queued group, if any, and settles every written
// group. Caller holds wmu.
func (l *Log) flushLocked() error {
	if err := l.writeQueuedLocked(false); err != nil {
		return err
	}
	return l.settleLocked()
}

// writeQueuedLocked takes the queued group, if any, and writes it to the
// active segment (rolling first if it does not fit). While an fsync runs
// (ahead), it writes only a group of at least writeAheadBytes that needs
// no roll, and leaves any other queued. If the log has failed or the write
// fails, the group fails with every written one. Caller holds wmu.
func (l *Log) writeQueuedLocked(ahead bool) error {
	g, roll, err := l.takeLocked(ahead)
	if g == nil {
		return nil
	}
	if err == nil && roll {
		if e := l.rollLocked(); e != nil {
			err = l.failWith(e)
		}
	}
	if err == nil {
		if e := l.writeGroupLocked(g); e != nil {
			err = l.failWith(e)
		}
	}
	if err != nil {
		l.written = append(l.written, g)
		l.finishLocked(0)
	}
	return err
}

// takeLocked swaps the queued group for an empty one and says whether it
// needs a roll first; with ahead, it leaves a group that is small or needs
// a roll. err is the log's failure, if it failed. Caller holds wmu.
func (l *Log) takeLocked(ahead bool) (g *group, roll bool, err error) {
	l.amu.Lock()
	defer l.amu.Unlock()
	g = l.q.cur
	if g.size == 0 {
		return nil, false, nil
	}
	roll = l.shouldRoll(g.size)
	if ahead && (roll || g.size < writeAheadBytes) {
		return nil, false, nil
	}
	l.q.cur = newGroup()
	return g, roll, l.q.err
}

// failure returns the log's failure, if it failed.
func (l *Log) failure() error {
	l.amu.Lock()
	defer l.amu.Unlock()
	return l.q.err
}

// writeGroupLocked writes g after the written groups. Caller holds wmu.
func (l *Log) writeGroupLocked(g *group) error {
	s := l.active()
	g.pos = l.writeEnd()
	pos := g.pos
	for _, p := range g.pieces {
		if _, err := s.f.WriteAt(p, pos); err != nil {
			return fmt.Errorf("write segment %s: %w", s.name(), err)
		}
		pos += int64(len(p))
	}
	l.written = append(l.written, g)
	return nil
}

// writeEnd returns where the next group goes in the active segment.
// Caller holds wmu.
func (l *Log) writeEnd() int64 {
	if n := len(l.written); n > 0 {
		g := l.written[n-1]
		return g.pos + int64(g.size)
	}
	return l.active().meta.size
}

// settleLocked makes every written group durable under the sync policy
// and publishes it. Caller holds wmu.
func (l *Log) settleLocked() error {
	if len(l.written) == 0 {
		return nil
	}
	if l.opts.Sync == SyncAlways {
		l.syncFailed(l.active().f.Sync())
	}
	return l.finishLocked(len(l.written))
}

// syncFailed marks the log failed if the fsync of the active segment
// returned err. Caller holds wmu.
func (l *Log) syncFailed(err error) {
	if err != nil {
		l.failWith(fmt.Errorf("sync segment %s: %w", l.active().name(), err))
	}
}

// finishLocked publishes and releases the first n written groups, once
// durable; if the log has failed, it fails every written group instead
// and returns the failure. Caller holds wmu.
func (l *Log) finishLocked(n int) error {
	err := l.failure()
	if err != nil {
		n = len(l.written)
	}
	done := l.written[:n]
	if err == nil {
		l.publish(l.active(), done)
	}
	for _, g := range done {
		g.err = err
		close(g.done)
	}
	l.recycle(done)
	l.written = append(l.written[:0], l.written[n:]...)
	return err
}

// recycle keeps the pieces of released groups for new ones.
func (l *Log) recycle(gs []*group) {
	l.amu.Lock()
	defer l.amu.Unlock()
	for _, g := range gs {
		for _, p := range g.pieces {
			if len(l.q.spare) < maxSpare {
				l.q.spare = append(l.q.spare, p)
			}
		}
		g.pieces = nil
	}
}

// fail refuses every later append until the log is reopened.
func (l *Log) fail(err error) {
	l.amu.Lock()
	if l.q.err == nil {
		l.q.err = err
	}
	l.amu.Unlock()
}

// failWith marks the log failed by err, as ErrFailed, unless it failed
// already, and returns the log's failure.
func (l *Log) failWith(err error) error {
	l.amu.Lock()
	defer l.amu.Unlock()
	if l.q.err == nil {
		l.q.err = fmt.Errorf("%w: %w", ErrFailed, err)
	}
	return l.q.err
}

// publish indexes the batches of written groups and moves the high
// watermark past them. Caller holds wmu.
func (l *Log) publish(s *segment, gs []*group) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, g := range gs {
		g.batches(func(pos int64, b []byte) {
			h, _ := parseHeader(b)
			s.addBatch(pos, &h, l.opts.IndexInterval)
		})
		l.hw = g.next
		l.dirty += int64(g.size)
	}
	l.wakeLocked()
}

func bytesOf(gs []*group) int {
	n := 0
	for _, g := range gs {
		n += g.size
	}
	return n
}

func batches(gs []*group) int {
	n := 0
	for _, g := range gs {
		n += g.count
	}
	return n
}
