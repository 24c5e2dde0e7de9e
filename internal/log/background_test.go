package log

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/courier-mq/courier/internal/vfs"
)

func TestLogRollsByAge(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	l := mustOpen(t, "log", Options{FS: vfs.NewMem(), MaxSegmentAge: time.Minute, Now: func() time.Time { return now }})
	defer mustClose(t, l)
	mustAppend(t, l, Record{Value: []byte("w")}) // timestamps from the clock
	mustAppend(t, l, Record{Value: []byte("x")})
	if n := l.Stats().Segments; n != 1 {
		t.Fatalf("%d segments before the age passes", n)
	}
	now = now.Add(2 * time.Minute)
	mustAppend(t, l, Record{Value: []byte("y")})
	if n := l.Stats().Segments; n != 2 {
		t.Fatalf("%d segments after the age passed, want 2", n)
	}
}

// TestLogBackgroundCompactionIsThrottled lets the janitor compact on its
// own, on a fake clock, and checks that the pass took at least as long as
// its I/O budget allows.
func TestLogBackgroundCompactionIsThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate = 16 << 10 // bytes per second
		l := mustOpen(t, "log", Options{FS: vfs.NewMem(), MaxSegmentBytes: 2048, JanitorInterval: time.Hour,
			Compaction: Compaction{Enabled: true, Interval: time.Second, BytesPerSecond: rate, MinDirtyBytes: 1}})
		defer mustClose(t, l)
		for i := range 400 {
			mustAppend(t, l, Record{Key: fmt.Appendf(nil, "k%d", i%10), Value: make([]byte, 100)})
		}
		before := l.Stats()
		start := time.Now()
		for l.Stats().Records == before.Records {
			time.Sleep(100 * time.Millisecond)
			if time.Since(start) > time.Hour {
				t.Fatal("the background cleaner never compacted")
			}
		}
		synctest.Wait()
		// Reading the whole log to map keys costs at least its size in budget.
		if took, least := time.Since(start), time.Duration(before.Bytes)*time.Second/rate; took < least {
			t.Fatalf("compaction of %d bytes took %v, the budget allows no less than %v", before.Bytes, took, least)
		}
	})
}

// TestLogReadersConsistentDuringCompaction reads the log over and over
// while compactions run: every read returns increasing offsets whose
// values are the ones written there, and never misses the newest record
// of a key.
func TestLogReadersConsistentDuringCompaction(t *testing.T) {
	l := mustOpen(t, "log", Options{FS: vfs.NewMem(), MaxSegmentBytes: 1024,
		Compaction: Compaction{BytesPerSecond: 1 << 30}})
	defer mustClose(t, l)
	const n, keys = 600, 7
	for i := range n {
		mustAppend(t, l, Record{Key: fmt.Appendf(nil, "k%d", i%keys), Value: fmt.Appendf(nil, "%d", i)})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				checkCompactedView(t, l, n, keys)
			}
		})
	}
	for range 5 {
		if _, err := l.Compact(context.Background()); err != nil {
			t.Error(err)
		}
		mustAppend(t, l, Record{Value: []byte("keyless")})
	}
	close(stop)
	wg.Wait()
}

func checkCompactedView(t *testing.T, l *Log, n, keys int) {
	prev := int64(-1)
	newest := map[string]int64{}
	for _, r := range readAll(t, l, 0) {
		if r.Offset <= prev {
			t.Errorf("offsets not increasing: %d after %d", r.Offset, prev)
			return
		}
		prev = r.Offset
		if r.Key != nil && string(r.Value) != fmt.Sprint(r.Offset) {
			t.Errorf("offset %d holds %q", r.Offset, r.Value)
			return
		}
		if r.Key != nil {
			newest[string(r.Key)] = r.Offset
		}
	}
	for k := range keys {
		if want := int64((n-1-k)/keys*keys + k); newest[fmt.Sprintf("k%d", k)] != want {
			t.Errorf("key k%d: newest offset read %d, want %d", k, newest[fmt.Sprintf("k%d", k)], want)
			return
		}
	}
}
