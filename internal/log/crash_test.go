package log

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/courier-mq/courier/internal/vfs"
)

// acked records what the log acknowledged: offset → value.
type acked struct {
	mu   sync.Mutex
	vals map[int64][]byte
}

func (a *acked) add(off int64, recs []Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, r := range recs {
		a.vals[off+int64(i)] = r.Value
	}
}

func (a *acked) snapshot() map[int64][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[int64][]byte, len(a.vals))
	for k, v := range a.vals {
		out[k] = v
	}
	return out
}

// TestLogCrashKeepsAcknowledged crashes the filesystem at random moments
// under concurrent appenders (the crash image keeps only synced bytes, plus
// a torn, sometimes garbled, part of the unsynced tail), then reopens and
// checks that every acknowledged record is there, intact, that offsets are
// dense up to the high watermark, and that nothing is reported corrupt.
func TestLogCrashKeepsAcknowledged(t *testing.T) {
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	for seed := range rounds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { crashRound(t, uint64(seed)) })
	}
}

func crashRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	fs := vfs.NewCrashable()
	o := Options{FS: fs, MaxSegmentBytes: int64(512 + rng.IntN(4096)), IndexInterval: 128}
	l := mustOpen(t, "p0", o)
	a := &acked{vals: map[int64][]byte{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() { crashAppender(l, a, w, stop) })
	}
	// Let a random amount of work happen, then crash while appends go on.
	for l.HighWatermark() < int64(20+rng.IntN(400)) {
		l.Wait(context.Background(), l.HighWatermark())
	}
	before := a.snapshot()
	img := fs.Crash(vfs.CrashOptions{Rand: rng, TornTail: rng.IntN(2) == 0, Garble: rng.IntN(2) == 0})
	close(stop)
	wg.Wait()
	l.Close()

	o.FS = img
	l2, err := Open("p0", Options{FS: img, MaxSegmentBytes: o.MaxSegmentBytes, IndexInterval: 128, JanitorInterval: -1})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer l2.Close()
	got := readAll(t, l2, 0)
	if int64(len(got)) != l2.HighWatermark() {
		t.Fatalf("%d records below high watermark %d", len(got), l2.HighWatermark())
	}
	for i, r := range got {
		if r.Offset != int64(i) {
			t.Fatalf("offset %d at position %d: not dense", r.Offset, i)
		}
	}
	for off, v := range before {
		if off >= int64(len(got)) || !bytes.Equal(got[off].Value, v) {
			t.Fatalf("acknowledged offset %d lost or changed (hw %d)", off, len(got))
		}
	}
	// The log accepts appends after recovery, at the next offset.
	if off := mustAppend(t, l2, rec(0, "k")); off != int64(len(got)) {
		t.Fatalf("append after recovery at %d, want %d", off, len(got))
	}
}

func crashAppender(l *Log, a *acked, w int, stop chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		n := 1 + i%3
		recs := make([]Record, n)
		for j := range recs {
			recs[j] = Record{Key: []byte{byte(w)}, Value: fmt.Appendf(nil, "w%d-%d-%d", w, i, j)}
		}
		off, err := l.Append(context.Background(), recs)
		if err != nil {
			return
		}
		a.add(off, recs)
	}
}
