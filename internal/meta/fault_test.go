package meta

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// walFaults injects an error into every write and sync of the WAL while
// on.
func walFaults(fs vfs.FS) (vfs.FS, *atomic.Bool) {
	on := &atomic.Bool{}
	inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
		if !on.Load() || !strings.HasSuffix(op.Path, ".log") {
			return nil
		}
		switch op.Kind {
		case errorfs.OpFileWrite, errorfs.OpFileWriteAt, errorfs.OpFileSync,
			errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
			return errorfs.ErrInjected
		}
		return nil
	})
	return errorfs.Wrap(fs, inj), on
}

// A failed commit fails the call that waits for it and every later call;
// reopening recovers what was durable.
func TestMetaFaultSync(t *testing.T) {
	mem := vfs.NewMem()
	fs, on := walFaults(mem)
	s := mustOpen(t, fs, Options{CommitInterval: never})
	mustSet(t, s, Key("k", 1), "durable")
	on.Store(true)
	if err := s.Set(Key("k", 2), []byte("x")); !errors.Is(err, ErrFailed) || !errors.Is(err, errorfs.ErrInjected) {
		t.Fatalf("set with a failing WAL: %v, want ErrFailed wrapping the injected error", err)
	}
	on.Store(false)
	wantFailed(t, s)
	if err := s.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("close of a failed store: %v, want ErrFailed", err)
	}
	s = mustOpen(t, mem, Options{})
	defer mustClose(t, s)
	wantGet(t, s, Key("k", 1), "durable")
}

// A failed commit of the committer is reported by the next call.
func TestMetaFaultDeferred(t *testing.T) {
	fs, on := walFaults(vfs.NewMem())
	s := mustOpen(t, fs, Options{CommitInterval: time.Millisecond})
	on.Store(true)
	mustDefer(t, s, Key("k"), "v")
	waitFor(t, "the failed commit", func() bool { return errors.Is(s.SetDeferred(Key("k"), nil), ErrFailed) })
	on.Store(false)
	wantFailed(t, s)
	if err := s.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("close of a failed store: %v, want ErrFailed", err)
	}
}

func wantFailed(t *testing.T, s *Store) {
	t.Helper()
	k := Key("k", 3)
	_, getErr := s.Get(k)
	for name, err := range map[string]error{
		"set":          s.Set(k, nil),
		"set deferred": s.SetDeferred(k, nil),
		"flush":        s.Flush(),
		"get":          getErr,
		"scan":         s.Scan(nil, func(k, v []byte) error { return nil }),
	} {
		if !errors.Is(err, ErrFailed) {
			t.Errorf("%s on a failed store: %v, want ErrFailed", name, err)
		}
	}
}
