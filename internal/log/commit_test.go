package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/courier-mq/courier/internal/vfs"
)

// syncGate holds every fsync of a segment file until the test lets it go,
// and reports each segment write and fsync as it starts.
type syncGate struct {
	armed     atomic.Bool
	failWrite atomic.Int32  // fail the nth segment write from now (1 = the next)
	failSync  atomic.Bool   // fail the fsyncs released from now
	syncs     chan string   // a segment fsync started (and waits for release)
	writes    chan string   // a segment write started
	free      chan struct{} // one value lets one fsync through
}

func newSyncGate() *syncGate {
	return &syncGate{syncs: make(chan string, 16), writes: make(chan string, 16), free: make(chan struct{}, 16)}
}

func (g *syncGate) Inject(op vfs.Op, path string) error {
	if !g.armed.Load() || !strings.HasSuffix(path, segSuffix) {
		return nil
	}
	switch op {
	case vfs.OpWrite:
		g.writes <- path
		if g.failWrite.Add(-1) == 0 {
			return errors.New("injected write failure")
		}
	case vfs.OpSync:
		g.syncs <- path
		<-g.free
		if g.failSync.Load() {
			return errors.New("injected sync failure")
		}
	}
	return nil
}

// bigBatch is one record with a value of n bytes, tagged i.
func bigBatch(i, n int) []Record {
	v := bytes.Repeat([]byte{byte(i)}, n)
	copy(v, fmt.Sprintf("big-%06d", i))
	return []Record{{Value: v, Timestamp: int64(1000 + i)}}
}

// syncHeld opens a log on a gated memory filesystem, appends a large
// batch A, and returns once A is written and its fsync is held.
func syncHeld(t *testing.T) (*syncGate, *vfs.MemFS, *Log, func(context.Context) error) {
	t.Helper()
	gate, mem := newSyncGate(), vfs.NewMem()
	l := mustOpen(t, "p", Options{FS: vfs.NewFaulty(mem, gate)})
	gate.armed.Store(true)
	waitA := appendBig(t, l, 0)
	<-gate.writes // A written
	<-gate.syncs  // A's fsync started, held
	return gate, mem, l, waitA
}

// appendBig appends big batch i without waiting and returns its wait.
func appendBig(t *testing.T, l *Log, i int) func(context.Context) error {
	t.Helper()
	_, wait, err := l.AppendIfAsync(bigBatch(i, writeAheadBytes), nil)
	if err != nil {
		t.Fatal(err)
	}
	return wait
}

// A group written while an fsync runs is not acknowledged by that fsync:
// only by the next one, which starts after its write returned.
func TestCommitWriteAheadWaitsForNextSync(t *testing.T) {
	gate, mem, l, waitA := syncHeld(t)
	waitB := appendBig(t, l, 1)
	<-gate.writes // B written while A's fsync is held
	gate.free <- struct{}{}
	if err := waitA(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-gate.syncs // B's own fsync started, held
	if hw := l.HighWatermark(); hw != 1 {
		t.Fatalf("high watermark %d while B's fsync is held, want 1 (A only)", hw)
	}
	gate.free <- struct{}{}
	if err := waitB(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hw := l.HighWatermark(); hw != 2 {
		t.Fatalf("high watermark %d, want 2", hw)
	}
	gate.armed.Store(false)
	mustClose(t, l)
	got := readValuesAfterReopen(t, mem)
	if len(got) != 2 || !bytes.HasPrefix(got[0], []byte("big-000000")) || !bytes.HasPrefix(got[1], []byte("big-000001")) {
		t.Fatalf("after reopen: %d records", len(got))
	}
}

// A write that fails while an fsync runs, or an fsync that fails while
// the next group is written, fails the log: neither the groups being
// synced nor those written meanwhile are acknowledged, nor anything later.
func TestCommitWriteAheadFailure(t *testing.T) {
	for _, what := range []string{"write", "sync"} {
		t.Run(what, func(t *testing.T) { writeAheadFailure(t, what == "sync") })
	}
}

func writeAheadFailure(t *testing.T, failSync bool) {
	gate, mem, l, waitA := syncHeld(t)
	if failSync {
		gate.failSync.Store(true)
	} else {
		gate.failWrite.Store(1)
	}
	waitB := appendBig(t, l, 1)
	<-gate.writes // B's write while A's fsync is held
	gate.free <- struct{}{}
	for i, wait := range []func(context.Context) error{waitA, waitB} {
		if err := wait(context.Background()); !errors.Is(err, ErrFailed) {
			t.Fatalf("batch %d: %v, want ErrFailed", i, err)
		}
	}
	if _, err := l.Append(context.Background(), bigBatch(2, 10)); !errors.Is(err, ErrFailed) {
		t.Fatalf("append after the failure: %v, want ErrFailed", err)
	}
	gate.armed.Store(false)
	l.Close()
	// Unacknowledged bytes may survive (the filesystem did not crash), but
	// not B's when its write failed.
	if got, most := readValuesAfterReopen(t, mem), map[bool]int{false: 1, true: 2}[failSync]; len(got) > most {
		t.Fatalf("%d records after reopen, want at most %d", len(got), most)
	}
}

// Truncate while a group written ahead is not yet synced: Truncate settles
// it first, so the cut is made on a consistent segment and the log goes on
// from the cut, before and after a reopen.
func TestCommitTruncateSettlesWrittenAhead(t *testing.T) {
	gate, mem, l, waitA := syncHeld(t)
	waitB := appendBig(t, l, 1)
	<-gate.writes // B written ahead
	truncated := make(chan error, 1)
	go func() { truncated <- l.Truncate(1) }()
	gate.free <- struct{}{} // A's fsync
	<-gate.syncs            // B's: the writer's next cycle or Truncate's settle
	gate.free <- struct{}{}
	for _, w := range []func(context.Context) error{waitA, waitB} {
		if err := w(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	gate.armed.Store(false)
	for range 4 { // a sync Truncate started while the gate was armed
		gate.free <- struct{}{}
	}
	if err := <-truncated; err != nil {
		t.Fatalf("truncate: %v", err)
	}
	if hw := l.HighWatermark(); hw != 1 {
		t.Fatalf("high watermark %d after truncate, want 1", hw)
	}
	if off := mustAppend(t, l, bigBatch(2, 100)...); off != 1 {
		t.Fatalf("append after truncate at %d, want 1", off)
	}
	mustClose(t, l)
	got := readValuesAfterReopen(t, mem)
	if len(got) != 2 || !bytes.HasPrefix(got[0], []byte("big-000000")) || !bytes.HasPrefix(got[1], []byte("big-000002")) {
		t.Fatalf("after reopen: %d records", len(got))
	}
}

func readValuesAfterReopen(t *testing.T, fs vfs.FS) [][]byte {
	t.Helper()
	l := mustOpen(t, "p", Options{FS: fs})
	defer mustClose(t, l)
	var out [][]byte
	for _, r := range readAll(t, l, 0) {
		out = append(out, r.Value)
	}
	return out
}

// Batches larger than the write-ahead threshold, from concurrent
// appenders, crash at random moments: every acknowledged record survives,
// offsets stay dense. This is the crash test of the pipelined path (the
// small records of TestLogCrashKeepsAcknowledged never write ahead).
func TestCommitCrashBigBatches(t *testing.T) {
	rounds := 6
	if testing.Short() {
		rounds = 3
	}
	for seed := range rounds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { bigCrashRound(t, uint64(seed)) })
	}
}

func bigCrashRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	fs := vfs.NewCrashable()
	o := Options{FS: fs, MaxSegmentBytes: int64(1<<20 + rng.IntN(2<<20)), IndexInterval: 4096}
	l := mustOpen(t, "p0", o)
	a := &acked{vals: map[int64][]byte{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { bigAppender(l, a, w, stop) })
	}
	for l.HighWatermark() < int64(4+rng.IntN(20)) {
		l.Wait(context.Background(), l.HighWatermark())
	}
	before := a.snapshot()
	img := fs.Crash(vfs.CrashOptions{Rand: rng, TornTail: rng.IntN(2) == 0, Garble: rng.IntN(2) == 0})
	close(stop)
	wg.Wait()
	l.Close()

	l2, err := Open("p0", Options{FS: img, MaxSegmentBytes: o.MaxSegmentBytes, JanitorInterval: -1})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer l2.Close()
	got := readAll(t, l2, 0)
	for i, r := range got {
		if r.Offset != int64(i) {
			t.Fatalf("offset %d at position %d: not dense", r.Offset, i)
		}
	}
	for off, v := range before {
		if off >= int64(len(got)) || !bytes.Equal(got[off].Value, v) {
			t.Fatalf("acknowledged offset %d lost or changed (%d records after crash)", off, len(got))
		}
	}
}

// bigAppender appends batches of 64 to 200 KiB, several in flight, and
// records each once acknowledged.
func bigAppender(l *Log, a *acked, w int, stop chan struct{}) {
	type pending struct {
		base int64
		recs []Record
		wait func(context.Context) error
	}
	var q []pending
	defer func() {
		for _, p := range q {
			if p.wait(context.Background()) == nil {
				a.add(p.base, p.recs)
			}
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		recs := bigBatch(w*100_000+i, writeAheadBytes+(i*37_000)%(136<<10))
		base, wait, err := l.AppendIfAsync(recs, nil)
		if err != nil {
			return
		}
		q = append(q, pending{base, recs, wait})
		if len(q) == 3 {
			if q[0].wait(context.Background()) != nil {
				return
			}
			a.add(q[0].base, q[0].recs)
			q = q[1:]
		}
	}
}

// A group's pieces are never regrown: a batch that does not fit in the
// last piece starts a new one, so bytes already added stay where they
// are; the batches come back in order, at consecutive positions.
func TestCommitGroupPieces(t *testing.T) {
	var spare [][]byte
	g := newGroup()
	sizes := []int{700 << 10, 200 << 10, 300 << 10, 3 << 20, 100, 100}
	var added [][]byte
	for i, n := range sizes {
		b := EncodeBatch(nil, bigBatch(i, n), 1)
		c := g.add(len(b), func(dst []byte) []byte { return append(dst, b...) }, &spare)
		if !bytes.Equal(c, b) {
			t.Fatalf("batch %d copied wrong", i)
		}
		added = append(added, c)
	}
	// [700K 200K] [300K] [3M] [100 100]: only the last piece takes more.
	if len(g.pieces) != 4 || g.count != len(sizes) {
		t.Fatalf("%d pieces, %d batches; want 4 pieces", len(g.pieces), g.count)
	}
	g.pos = 4096
	pos, i := int64(4096), 0
	g.batches(func(at int64, b []byte) {
		if at != pos || !bytes.Equal(b, added[i]) {
			t.Fatalf("batch %d at %d, want %d", i, at, pos)
		}
		if &b[0] != &added[i][0] {
			t.Fatalf("batch %d moved after it was added", i)
		}
		pos += int64(len(b))
		i++
	})
	if i != len(sizes) || pos != 4096+int64(g.size) {
		t.Fatalf("walked %d batches to %d, size %d", i, pos, g.size)
	}
}
