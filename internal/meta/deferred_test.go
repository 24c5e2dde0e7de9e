package meta

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// never is a commit interval long enough that only Flush, a synchronous
// write or Close commits deferred writes.
const never = time.Hour

func TestMetaDeferredReadYourWrites(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{CommitInterval: never})
	defer mustClose(t, s)
	mustSet(t, s, Key("k", 1), "stored")
	mustSet(t, s, Key("k", 2), "stored")
	mustDefer(t, s, Key("k", 1), "deferred")
	mustDefer(t, s, Key("k", 3), "deferred")
	if err := s.DeleteDeferred(Key("k", 2)); err != nil {
		t.Fatal(err)
	}
	wantGet(t, s, Key("k", 1), "deferred")
	wantGet(t, s, Key("k", 2), "")
	wantGet(t, s, Key("k", 3), "deferred")
	want := map[string]string{string(Key("k", 1)): "deferred", string(Key("k", 3)): "deferred"}
	if got := scanAll(t, s, Prefix("k")); !maps.Equal(got, want) {
		t.Fatalf("scan = %q, want %q", got, want)
	}
	if n := commits(s); n != 3 { // the format and the two Sets
		t.Fatalf("%d commits before Flush, want 3", n)
	}
}

func TestMetaDeferredCoalesce(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{CommitInterval: never})
	defer mustClose(t, s)
	before := commits(s)
	for i := range 1000 {
		mustDefer(t, s, Key("k", i%10), fmt.Sprint(i))
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := commits(s) - before; n != 1 {
		t.Fatalf("%d commits for 1000 deferred writes, want 1", n)
	}
	for i := 990; i < 1000; i++ {
		wantGet(t, s, Key("k", i%10), fmt.Sprint(i))
	}
	if err := s.Flush(); err != nil || commits(s)-before != 1 {
		t.Fatalf("flush with nothing deferred: %v, %d commits", err, commits(s)-before)
	}
}

// A synchronous write commits the deferred writes before it in the same
// batch, so a later write always wins.
func TestMetaDeferredOrder(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, Options{CommitInterval: never})
	mustDefer(t, s, Key("a"), "deferred")
	mustSet(t, s, Key("a"), "sync")
	mustDefer(t, s, Key("b"), "deferred")
	if err := s.Delete(Key("b")); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, Key("c"), "sync")
	mustDefer(t, s, Key("c"), "deferred")
	mustDefer(t, s, Key("d", 1), "deferred")
	if err := s.DeletePrefix(Prefix("d")); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)
	s = mustOpen(t, fs, Options{})
	defer mustClose(t, s)
	wantGet(t, s, Key("a"), "sync")
	wantGet(t, s, Key("b"), "")
	wantGet(t, s, Key("c"), "deferred")
	wantGet(t, s, Key("d", 1), "")
}

// The committer makes deferred writes durable without a Flush.
func TestMetaDeferredCommitter(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := mustOpen(t, fs, Options{CommitInterval: time.Millisecond})
	mustDefer(t, s, Key("k"), "v")
	waitFor(t, "the committer", func() bool { return idle(s) })
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	mustClose(t, s)
	s = mustOpen(t, crashed, Options{})
	defer mustClose(t, s)
	wantGet(t, s, Key("k"), "v")
}

// Deferred writes past deferredCommitBytes are committed without waiting
// for the interval.
func TestMetaDeferredLarge(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{CommitInterval: never})
	defer mustClose(t, s)
	before := commits(s)
	val := make([]byte, deferredCommitBytes/4)
	for i := range 4 {
		if err := s.SetDeferred(Key("k", i), val); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "an early commit", func() bool { return commits(s) > before && idle(s) })
}

func TestMetaDeferredSync(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := mustOpen(t, fs, Options{CommitInterval: -1})
	mustDefer(t, s, Key("k", 1), "v")
	if err := s.DeleteDeferred(Key("k", 2)); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	mustClose(t, s)
	s = mustOpen(t, crashed, Options{})
	defer mustClose(t, s)
	wantGet(t, s, Key("k", 1), "v")
}

func TestMetaFlushDurable(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := mustOpen(t, fs, Options{CommitInterval: never})
	mustDefer(t, s, Key("k", 1), "v1")
	mustDefer(t, s, Key("k", 2), "v2")
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	mustDefer(t, s, Key("k", 3), "lost")
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	mustClose(t, s)
	s = mustOpen(t, crashed, Options{})
	defer mustClose(t, s)
	wantGet(t, s, Key("k", 1), "v1")
	wantGet(t, s, Key("k", 2), "v2")
	wantGet(t, s, Key("k", 3), "")
}

// Goroutines write their own keys with every kind of write, concurrently
// with the committer, and read their own writes back.
func TestMetaConcurrent(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{CommitInterval: time.Millisecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() { concurrentWriter(t, s, g) })
	}
	wg.Wait()
	mustClose(t, s)
}

func concurrentWriter(t *testing.T, s *Store, g int) {
	for i := range 200 {
		k, v := Key("w", g, i%7), fmt.Sprint(i)
		var err error
		switch i % 5 {
		case 0:
			err = s.Set(k, []byte(v))
		case 1:
			err = s.Apply(SetOp(k, []byte(v)), SetOp(Key("w", g, "last"), []byte(v)))
		case 4:
			if err = s.Flush(); err == nil {
				err = s.SetDeferred(k, []byte(v))
			}
		default:
			err = s.SetDeferred(k, []byte(v))
		}
		if err != nil {
			t.Errorf("writer %d op %d: %v", g, i, err)
			return
		}
		wantGet(t, s, k, v)
		if got := scanAll(t, s, Prefix("w", g)); got[string(k)] != v {
			t.Errorf("writer %d op %d: scan saw %q, want %q", g, i, got[string(k)], v)
			return
		}
	}
}

// Close waits for calls in progress; later calls get ErrClosed.
func TestMetaCloseConcurrent(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{CommitInterval: time.Millisecond})
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			<-start
			for i := 0; ; i++ {
				err := s.SetDeferred(Key("k", g), []byte("v"))
				if err == nil && i%3 == 0 {
					err = s.Set(Key("k", g), []byte("v"))
				}
				if err != nil {
					if err != ErrClosed {
						t.Errorf("writer %d: %v", g, err)
					}
					return
				}
			}
		})
	}
	close(start)
	waitFor(t, "some commits", func() bool { return commits(s) > 20 })
	mustClose(t, s)
	wg.Wait()
}

// A key set with SetDeferredNew and deleted before the commit never
// reaches Pebble: Flush has nothing to commit. A pending delete hides a
// stored key, so a new set over it stays a real write and its delete a
// real tombstone.
func TestMetaDeferredNewCancels(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{CommitInterval: never})
	defer mustClose(t, s)
	mustSet(t, s, Key("k", 2), "stored")
	before := commits(s)
	if err := s.SetDeferredNew(Key("k", 1), []byte("short-lived")); err != nil {
		t.Fatal(err)
	}
	wantGet(t, s, Key("k", 1), "short-lived")
	mustDefer(t, s, Key("k", 1), "replaced") // still not stored
	if err := s.DeleteDeferred(Key("k", 1)); err != nil {
		t.Fatal(err)
	}
	wantGet(t, s, Key("k", 1), "")
	if err := s.Flush(); err != nil || commits(s) != before {
		t.Fatalf("flush after a set and delete of a new key: %v, %d commits, want none", err, commits(s)-before)
	}

	// k/2 is stored: delete it, set it "new", delete it again.
	if err := s.DeleteDeferred(Key("k", 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDeferredNew(Key("k", 2), []byte("again")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDeferred(Key("k", 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil || commits(s) != before+1 {
		t.Fatalf("flush: %v, %d commits, want 1 (the tombstone)", err, commits(s)-before)
	}
	wantGet(t, s, Key("k", 2), "")
	if got := scanAll(t, s, Prefix("k")); len(got) != 0 {
		t.Fatalf("scan = %q, want nothing", got)
	}
}

// Deferred writes copy their key and value: a caller that reuses one
// buffer for its keys and one for its values, writing one key again and
// again between others, reads back what it wrote.
func TestMetaDeferredReusedBuffers(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{CommitInterval: never})
	defer mustClose(t, s)
	var key, val []byte
	for i := range 20 {
		k := 0
		if i%5 == 4 {
			k = i
		}
		key = append(key[:0], Key("k", k)...)
		val = AppendIntValue(val[:0], int64(i))
		if err := s.SetDeferred(key, val); err != nil {
			t.Fatal(err)
		}
	}
	for _, flush := range []bool{false, true} {
		if flush {
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		for k, want := range map[int]int64{0: 18, 4: 4, 9: 9, 14: 14, 19: 19} {
			v, err := s.Get(Key("k", k))
			if got, _ := DecodeInt(v); err != nil || got != want {
				t.Errorf("flushed %v: key %d = %d (%v), want %d", flush, k, got, err, want)
			}
		}
	}
}
