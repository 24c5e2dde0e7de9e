package log

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/vfs"
)

func TestLogAppendReadReopen(t *testing.T) {
	forEachFS(t, func(t *testing.T, fs vfs.FS, dir string) {
		o := Options{FS: fs, MaxSegmentBytes: 2048, IndexInterval: 256}
		l := mustOpen(t, dir, o)
		for i := range 100 {
			if off := mustAppend(t, l, rec(i, "k")); off != int64(i) {
				t.Fatalf("append %d got offset %d", i, off)
			}
		}
		checkSeq(t, readAll(t, l, 0), 0, 100)
		checkSeq(t, readAll(t, l, 57), 57, 100)
		if st := l.Stats(); st.Segments < 3 || st.HighWatermark != 100 || st.Records != 100 {
			t.Fatalf("stats %+v", st)
		}
		mustClose(t, l)
		l = mustOpen(t, dir, o)
		defer mustClose(t, l)
		if hw := l.HighWatermark(); hw != 100 {
			t.Fatalf("hw after reopen %d", hw)
		}
		checkSeq(t, readAll(t, l, 0), 0, 100)
		if off := mustAppend(t, l, rec(100, "k")); off != 100 {
			t.Fatalf("append after reopen at %d", off)
		}
	})
}

// checkSeq asserts recs are exactly the records from..to-1 made by rec.
func checkSeq(t *testing.T, recs []Record, from, to int) {
	t.Helper()
	if len(recs) != to-from {
		t.Fatalf("got %d records, want %d", len(recs), to-from)
	}
	for i, r := range recs {
		want := rec(from+i, "k")
		if r.Offset != int64(from+i) || !bytes.Equal(r.Value, want.Value) || r.Timestamp != want.Timestamp ||
			string(r.Key) != "k" || len(r.Headers) != 1 || string(r.Headers[0].Value) != "orders.k" {
			t.Fatalf("record %d: %+v", from+i, r)
		}
	}
}

func TestLogReadBounds(t *testing.T) {
	l := mustOpen(t, "log", Options{FS: vfs.NewMem()})
	defer mustClose(t, l)
	mustAppend(t, l, rec(0, "a"), rec(1, "b"), rec(2, "c"))
	c, err := l.Read(3, 100)
	if err != nil || len(c.Data) != 0 || c.Next != 3 {
		t.Fatalf("read at hw: %+v %v", c, err)
	}
	if _, err := l.Read(4, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past hw: %v", err)
	}
	// A read inside a batch returns the whole batch; decoding skips.
	c, err = l.Read(1, 1)
	if err != nil || c.Next != 3 {
		t.Fatalf("read mid-batch: %+v %v", c, err)
	}
	var got []int64
	DecodeRecords(c.Data, 1, func(r Record) bool { got = append(got, r.Offset); return true })
	if len(got) != 2 || got[0] != 1 {
		t.Fatalf("decoded %v", got)
	}
}

func TestLogGroupCommitConcurrent(t *testing.T) {
	forEachFS(t, func(t *testing.T, fs vfs.FS, dir string) {
		l := mustOpen(t, dir, Options{FS: fs, MaxSegmentBytes: 64 << 10})
		const writers, each = 16, 200
		var wg sync.WaitGroup
		offs := make(chan int64, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					off, err := l.Append(context.Background(), []Record{rec(w*each+i, "k")})
					if err != nil {
						t.Errorf("append: %v", err)
						return
					}
					offs <- off
				}
			})
		}
		wg.Wait()
		close(offs)
		seen := map[int64]bool{}
		for o := range offs {
			if seen[o] {
				t.Fatalf("offset %d given twice", o)
			}
			seen[o] = true
		}
		if len(seen) != writers*each || l.HighWatermark() != writers*each {
			t.Fatalf("%d offsets, hw %d", len(seen), l.HighWatermark())
		}
		if got := readAll(t, l, 0); len(got) != writers*each {
			t.Fatalf("read %d", len(got))
		}
		mustClose(t, l)
	})
}

func TestLogWaitWakesOnAppend(t *testing.T) {
	l := mustOpen(t, "log", Options{FS: vfs.NewMem()})
	defer mustClose(t, l)
	done := make(chan error)
	go func() { done <- l.Wait(context.Background(), 0) }()
	select {
	case err := <-done:
		t.Fatalf("wait returned before data: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	mustAppend(t, l, rec(0, "k"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

func TestLogOffsetForTime(t *testing.T) {
	l := mustOpen(t, "log", Options{FS: vfs.NewMem(), MaxSegmentBytes: 1024, IndexInterval: 128})
	defer mustClose(t, l)
	for i := range 200 {
		mustAppend(t, l, rec(i, "k")) // timestamp 1000+i
	}
	for _, c := range []struct{ ts, want int64 }{{0, 0}, {1000, 0}, {1057, 57}, {1199, 199}, {1200, 200}, {5000, 200}} {
		if got, err := l.OffsetForTime(c.ts); err != nil || got != c.want {
			t.Fatalf("OffsetForTime(%d) = %d, %v; want %d", c.ts, got, err, c.want)
		}
	}
}

func TestLogAppendBatchValidates(t *testing.T) {
	l := mustOpen(t, "log", Options{FS: vfs.NewMem(), MaxBatchBytes: 1 << 10})
	defer mustClose(t, l)
	b := EncodeBatch(nil, []Record{rec(0, "k"), rec(1, "k")}, 1)
	setBaseOffset(b, 99) // ignored
	if off, err := l.AppendBatch(context.Background(), b); err != nil || off != 0 {
		t.Fatalf("append batch: %d %v", off, err)
	}
	bad := append([]byte{}, b...)
	bad[len(bad)-1] ^= 1
	if _, err := l.AppendBatch(context.Background(), bad); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("bad crc: %v", err)
	}
	big := EncodeBatch(nil, []Record{{Value: make([]byte, 2048)}}, 1)
	if _, err := l.AppendBatch(context.Background(), big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if got := readAll(t, l, 0); len(got) != 2 || l.HighWatermark() != 2 {
		t.Fatalf("read %d, hw %d", len(got), l.HighWatermark())
	}
}

func TestLogAppendIfIsAtomic(t *testing.T) {
	l := mustOpen(t, "log", Options{FS: vfs.NewMem()})
	defer mustClose(t, l)
	// 8 writers race to append "after offset last"; exactly one wins each slot.
	var mu sync.Mutex
	last := int64(-1)
	var wg sync.WaitGroup
	wins := make([]int, 8)
	for w := range 8 {
		wg.Go(func() {
			for range 50 {
				mu.Lock()
				want := last
				mu.Unlock()
				_, err := l.AppendIf(context.Background(), []Record{rec(w, "k")}, func(base int64) error {
					if base-1 != want {
						return errors.New("conflict")
					}
					mu.Lock()
					last = base
					mu.Unlock()
					return nil
				})
				if err == nil {
					wins[w]++
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, n := range wins {
		total += n
	}
	if int64(total) != l.HighWatermark() || total == 0 {
		t.Fatalf("%d wins, hw %d", total, l.HighWatermark())
	}
}
