package meta

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Writers of the crash test; each acks by storing the number of its last
// write that returned (-1: none).
const (
	crashSyncWriters  = 4 // Set one key each, with increasing values
	crashApplyWriters = 2 // Apply a batch of crashBatch keys, all one value
	crashBatch        = 5
)

type crashAcks struct {
	sync    [crashSyncWriters]atomic.Int64
	apply   [crashApplyWriters]atomic.Int64
	flushed atomic.Int64 // the deferred writer's last flushed write
	total   atomic.Int64
}

// TestMetaCrash crashes a store under load at a random moment: every write
// returned by Set, Apply or Flush before the crash survives, each Apply is
// all or nothing, and the deferred writes that survive are a prefix of the
// order they were made in.
func TestMetaCrash(t *testing.T) {
	for seed := range uint64(6) {
		unsynced := []int{0, 50}[seed%2]
		t.Run(fmt.Sprintf("seed=%d,unsynced=%d%%", seed, unsynced), func(t *testing.T) {
			crashRun(t, seed, unsynced)
		})
	}
}

func crashRun(t *testing.T, seed uint64, unsynced int) {
	rng := rand.New(rand.NewPCG(seed, seed))
	fs := vfs.NewCrashableMem()
	s := mustOpen(t, fs, Options{CommitInterval: time.Millisecond})
	acks := &crashAcks{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	startCrashWriters(t, s, acks, stop, &wg)
	target := 200 + rng.Int64N(800)
	waitFor(t, "acked writes", func() bool { return acks.total.Load() >= target })
	var seen crashAcks
	copyAcks(&seen, acks)
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsynced, RNG: rng})
	close(stop)
	wg.Wait()
	mustClose(t, s)
	s = mustOpen(t, crashed, Options{})
	defer mustClose(t, s)
	checkCrash(t, s, &seen)
}

func copyAcks(dst, src *crashAcks) {
	for i := range src.sync {
		dst.sync[i].Store(src.sync[i].Load())
	}
	for i := range src.apply {
		dst.apply[i].Store(src.apply[i].Load())
	}
	dst.flushed.Store(src.flushed.Load())
}

func startCrashWriters(t *testing.T, s *Store, acks *crashAcks, stop chan struct{}, wg *sync.WaitGroup) {
	run := func(ack *atomic.Int64, write func(i int64) error) {
		ack.Store(-1)
		wg.Go(func() {
			for i := int64(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := write(i); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				ack.Store(i)
				acks.total.Add(1)
			}
		})
	}
	for w := range acks.sync {
		run(&acks.sync[w], func(i int64) error { return s.Set(Key("sync", w), EncodeInt(i)) })
	}
	for w := range acks.apply {
		run(&acks.apply[w], func(i int64) error { return applyWrite(s, w, i) })
	}
	var deferred deferredWriter
	run(&acks.flushed, func(i int64) error { return deferred.write(s, i) })
}

func applyWrite(s *Store, w int, i int64) error {
	ops := []Op{DeletePrefixOp(Prefix("apply", w))}
	for j := range crashBatch {
		ops = append(ops, SetOp(Key("apply", w, j), EncodeInt(i)))
	}
	return s.Apply(ops...)
}

// deferredWriter writes Key("dx", n) then Key("dseq") = n for n = 0, 1,
// ... with deferred writes, flushing after every tenth; write(i) returns
// once write i is flushed.
type deferredWriter struct{ n int64 }

func (d *deferredWriter) write(s *Store, i int64) error {
	for ; d.n < (i+1)*10; d.n++ {
		if err := errors.Join(
			s.SetDeferred(Key("dx", d.n), nil),
			s.SetDeferred(Key("dseq"), EncodeInt(d.n)),
		); err != nil {
			return err
		}
	}
	return s.Flush()
}

func getInt(t *testing.T, s *Store, key []byte) int64 {
	t.Helper()
	v, err := s.Get(key)
	if errors.Is(err, ErrNotFound) {
		return -1
	}
	if err != nil {
		t.Fatalf("get %x: %v", key, err)
	}
	n, err := DecodeInt(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func checkCrash(t *testing.T, s *Store, seen *crashAcks) {
	for w := range seen.sync {
		if got, acked := getInt(t, s, Key("sync", w)), seen.sync[w].Load(); got < acked {
			t.Errorf("sync writer %d: %d survived, %d was acked", w, got, acked)
		}
	}
	for w := range seen.apply {
		checkApply(t, s, w, seen.apply[w].Load())
	}
	checkDeferred(t, s, seen.flushed.Load())
}

func checkApply(t *testing.T, s *Store, w int, acked int64) {
	first := getInt(t, s, Key("apply", w, 0))
	for j := 1; j < crashBatch; j++ {
		if got := getInt(t, s, Key("apply", w, j)); got != first {
			t.Errorf("apply writer %d: torn batch: key 0 = %d, key %d = %d", w, first, j, got)
		}
	}
	if first < acked {
		t.Errorf("apply writer %d: %d survived, %d was acked", w, first, acked)
	}
}

// checkDeferred: with dseq = n, every dx up to n survived and none past
// n+1 (dx n+1 is written before dseq n+1, so it may share a batch with
// dseq n).
func checkDeferred(t *testing.T, s *Store, flushed int64) {
	seq := getInt(t, s, Key("dseq"))
	if flushed >= 0 && seq < (flushed+1)*10-1 {
		t.Errorf("deferred: dseq %d survived, %d was flushed", seq, (flushed+1)*10-1)
	}
	var n int64
	err := s.Scan(Prefix("dx"), func(k, _ []byte) error {
		_, parts, err := DecodeKey(k)
		if err == nil && parts[0].(int64) != n {
			err = fmt.Errorf("dx %d missing", n)
		}
		n++
		return err
	})
	if err != nil || n < seq+1 || n > seq+2 {
		t.Errorf("deferred: dseq %d, dx 0..%d survived: %v", seq, n-1, err)
	}
}
