package meta

import (
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testDir = "meta"

// tb is what the helpers need of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

func mustOpen(t testing.TB, fs vfs.FS, o Options) *Store {
	t.Helper()
	o.FS = fs
	s, err := Open(testDir, o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func mustClose(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func mustSet(t testing.TB, s *Store, key []byte, val string) {
	t.Helper()
	if err := s.Set(key, []byte(val)); err != nil {
		t.Fatalf("set %x: %v", key, err)
	}
}

func mustDefer(t testing.TB, s *Store, key []byte, val string) {
	t.Helper()
	if err := s.SetDeferred(key, []byte(val)); err != nil {
		t.Fatalf("set deferred %x: %v", key, err)
	}
}

// wantGet checks the value of key; want "" with missing means ErrNotFound.
func wantGet(t tb, s *Store, key []byte, want string) {
	t.Helper()
	v, err := s.Get(key)
	if want == "" && errors.Is(err, ErrNotFound) {
		return
	}
	if err != nil || string(v) != want {
		t.Fatalf("get %x = %q, %v; want %q", key, v, err, want)
	}
}

// scanAll returns key=value strings of every key under prefix.
func scanAll(t tb, s *Store, prefix []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	var last []byte
	err := s.Scan(prefix, func(k, v []byte) error {
		if last != nil && string(k) <= string(last) {
			t.Errorf("scan out of order: %x after %x", k, last)
		}
		last = append(last[:0], k...)
		out[string(k)] = string(v)
		return nil
	})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return out
}

// idle reports whether every deferred write has been committed durably.
func idle(s *Store) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.mu.pending) > 0 || s.mu.committing != nil {
		return false
	}
	if c := s.mu.last; c != nil {
		select {
		case <-c.done:
		default:
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func commits(s *Store) int64 {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.commits
}
