package vfs

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

func TestVFSFaultyOpString(t *testing.T) {
	seen := map[string]bool{}
	for op := range numOps {
		s := op.String()
		if seen[s] || strings.HasPrefix(s, "Op(") {
			t.Errorf("Op %d: name %q", int(op), s)
		}
		seen[s] = true
	}
	if s := Op(99).String(); s != "Op(99)" {
		t.Errorf("Op(99) = %q", s)
	}
}

// faultSetup is a Crashable with durable d/f = "data", an open read-write
// handle on it through a FaultyFS (with unsynced "DATA" written), and an
// unsynced new entry d/x. Nothing is injected until tog is enabled.
type faultSetup struct {
	c   *CrashableFS
	ff  *FaultyFS
	f   File
	tog *Toggle
}

func newFaultSetup(t *testing.T) *faultSetup {
	s := &faultSetup{c: NewCrashable(), tog: &Toggle{}}
	s.ff = NewFaulty(s.c, s.tog)
	must(t, s.c.MkdirAll("d"))
	must(t, s.c.SyncDir("."))
	durableFile(t, s.c, "d/f", "data")
	f, err := s.ff.OpenReadWrite("d/f")
	must(t, err)
	s.f = f
	write(t, f, 0, "DATA")
	create(t, s.c, "d/x", "")
	return s
}

// faultCases perform each op once; undone checks that it did nothing.
var faultCases = []struct {
	op     Op
	path   string
	do     func(s *faultSetup) error
	undone func(t *testing.T, s *faultSetup)
}{
	{OpCreate, "d/new", func(s *faultSetup) error { _, err := s.ff.Create("d/new"); return err },
		func(t *testing.T, s *faultSetup) { wantFile(t, s.c, "d/new", nil) }},
	{OpOpen, "d/f", func(s *faultSetup) error { _, err := s.ff.Open("d/f"); return err }, nil},
	{OpOpenReadWrite, "d/f", func(s *faultSetup) error { _, err := s.ff.OpenReadWrite("d/f"); return err }, nil},
	{OpRemove, "d/f", func(s *faultSetup) error { return s.ff.Remove("d/f") },
		func(t *testing.T, s *faultSetup) { wantFile(t, s.c, "d/f", ptr("DATA")) }},
	{OpRename, "d/f -> d/g", func(s *faultSetup) error { return s.ff.Rename("d/f", "d/g") },
		func(t *testing.T, s *faultSetup) { wantFile(t, s.c, "d/g", nil) }},
	{OpMkdirAll, "d/sub", func(s *faultSetup) error { return s.ff.MkdirAll("d/sub") },
		func(t *testing.T, s *faultSetup) { wantFile(t, s.c, "d/sub", nil) }},
	{OpList, "d", func(s *faultSetup) error { _, err := s.ff.List("d"); return err }, nil},
	{OpStat, "d/f", func(s *faultSetup) error { _, err := s.ff.Stat("d/f"); return err }, nil},
	{OpSyncDir, "d", func(s *faultSetup) error { return s.ff.SyncDir("d") },
		func(t *testing.T, s *faultSetup) { wantFile(t, s.c.Crash(CrashOptions{}), "d/x", nil) }},
	{OpRead, "d/f", func(s *faultSetup) error { _, err := s.f.ReadAt(make([]byte, 1), 0); return err }, nil},
	{OpWrite, "d/f", func(s *faultSetup) error { _, err := s.f.WriteAt([]byte("X"), 0); return err },
		func(t *testing.T, s *faultSetup) { wantFile(t, s.c, "d/f", ptr("DATA")) }},
	{OpSync, "d/f", func(s *faultSetup) error { return s.f.Sync() },
		func(t *testing.T, s *faultSetup) { wantFile(t, s.c.Crash(CrashOptions{}), "d/f", ptr("data")) }},
	{OpTruncate, "d/f", func(s *faultSetup) error { return s.f.Truncate(0) },
		func(t *testing.T, s *faultSetup) { wantFile(t, s.c, "d/f", ptr("DATA")) }},
	{OpSize, "d/f", func(s *faultSetup) error { _, err := s.f.Size(); return err }, nil},
	{OpClose, "d/f", func(s *faultSetup) error { return s.f.Close() },
		func(t *testing.T, s *faultSetup) { wantContents(t, s.f, "DATA") }},
}

// TestVFSFaultyEveryOp injects a fault into each op in turn and checks the
// error and that the operation was not performed.
func TestVFSFaultyEveryOp(t *testing.T) {
	if len(faultCases) != int(numOps) {
		t.Fatalf("%d cases for %d ops", len(faultCases), numOps)
	}
	for _, fc := range faultCases {
		t.Run(fc.op.String(), func(t *testing.T) {
			s := newFaultSetup(t)
			defer s.f.Close()
			s.tog.Enable(fc.op)
			err := fc.do(s)
			s.tog.Disable()
			wantInjected(t, err, fc.op, fc.path)
			if fc.undone != nil {
				fc.undone(t, s)
			}
			if err := fc.do(s); err != nil {
				t.Fatalf("after Disable: %v", err)
			}
		})
	}
}

func wantInjected(t *testing.T, err error, op Op, path string) {
	t.Helper()
	var ie *InjectedError
	if !errors.Is(err, ErrInjected) || !errors.As(err, &ie) || ie.Op != op {
		t.Fatalf("err = %v, want an injected %v", err, op)
	}
	if msg := err.Error(); !strings.Contains(msg, op.String()+" "+path) {
		t.Fatalf("message %q does not name %v %s", msg, op, path)
	}
}

// countFaults runs n writes through inj and reports which ones failed.
func countFaults(t *testing.T, inj Injector, n int) []int {
	t.Helper()
	f, err := NewFaulty(NewMem(), inj).Create("f")
	must(t, err)
	defer f.Close()
	var failed []int
	for i := 1; i <= n; i++ {
		must(t, f.Sync()) // other ops do not count
		if _, err := f.WriteAt([]byte("x"), 0); err != nil {
			failed = append(failed, i)
		}
	}
	return failed
}

func TestVFSFaultyOnNth(t *testing.T) {
	if got := fmt.Sprint(countFaults(t, OnNth(OpWrite, 3), 6)); got != "[3]" {
		t.Fatalf("failed writes %s, want [3]", got)
	}
}

func TestVFSFaultyAfter(t *testing.T) {
	if got := fmt.Sprint(countFaults(t, After(OpWrite, 4), 6)); got != "[4 5 6]" {
		t.Fatalf("failed writes %s", got)
	}
}

func TestVFSFaultyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	if got := countFaults(t, Random(rng, 0, OpWrite), 100); len(got) != 0 {
		t.Errorf("p=0 failed %d writes", len(got))
	}
	if got := countFaults(t, Random(rng, 1, OpWrite, OpRead), 100); len(got) != 100 {
		t.Errorf("p=1 failed %d of 100 writes", len(got))
	}
	if got := countFaults(t, Random(rng, 1, OpRead), 100); len(got) != 0 {
		t.Errorf("faults on unlisted op: %d", len(got))
	}
	if got := countFaults(t, Random(rng, 0.5, OpWrite), 1000); len(got) < 400 || len(got) > 600 {
		t.Errorf("p=0.5 failed %d of 1000", len(got))
	}
}

func TestVFSFaultyPathContains(t *testing.T) {
	ff := NewFaulty(NewMem(), PathContains("seg", OnNth(OpCreate, 2)))
	for _, name := range []string{"a", "seg1", "b", "c"} {
		create(t, ff, name, "")
	}
	_, err := ff.Create("seg2")
	wantInjected(t, err, OpCreate, "seg2")
	create(t, ff, "seg3", "")
}

func TestVFSFaultyToggle(t *testing.T) {
	var tog Toggle
	ff := NewFaulty(NewMem(), &tog)
	must(t, ff.MkdirAll("d"))
	tog.Enable()
	if ff.MkdirAll("d") == nil || ff.SyncDir("d") == nil {
		t.Fatal("Enable() did not enable every op")
	}
	tog.Disable(OpSyncDir)
	must(t, ff.SyncDir("d"))
	if ff.MkdirAll("d") == nil {
		t.Fatal("Disable(OpSyncDir) disabled MkdirAll")
	}
	tog.Disable()
	must(t, ff.MkdirAll("d"))
}

// Counting is exact under concurrency.
func TestVFSFaultyConcurrentCounting(t *testing.T) {
	for _, tc := range []struct {
		inj  Injector
		want int64
	}{{OnNth(OpStat, 50), 1}, {After(OpStat, 101), 100}} {
		ff := NewFaulty(NewMem(), tc.inj)
		var failed atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 25 {
					if _, err := ff.Stat("."); err != nil {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if failed.Load() != tc.want {
			t.Errorf("%d failed, want %d", failed.Load(), tc.want)
		}
	}
}

func TestVFSFaultyShortWrite(t *testing.T) {
	ff := NewFaulty(NewMem(), Short(3, OnNth(OpWrite, 2)))
	f := create(t, ff, "f", "")
	n, err := f.WriteAt([]byte("abcdef"), 0)
	if n != 3 || !errors.Is(err, ErrInjected) {
		t.Fatalf("WriteAt = %d, %v; want 3, injected", n, err)
	}
	wantContents(t, f, "abc")
	full := InjectorFunc(func(op Op, _ string) error {
		if op == OpWrite {
			return ShortWrite{N: 10, Err: syscall.ENOSPC}
		}
		return nil
	})
	f, err = NewFaulty(NewMem(), full).Create("g")
	must(t, err)
	defer f.Close()
	n, err = f.WriteAt([]byte("xy"), 0)
	if n != 2 || !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrInjected) {
		t.Fatalf("WriteAt = %d, %v; want 2, ENOSPC", n, err)
	}
}

func TestVFSFaultyCustomError(t *testing.T) {
	ff := NewFaulty(NewMem(), InjectorFunc(func(op Op, _ string) error {
		if op == OpMkdirAll {
			return syscall.EIO
		}
		return nil
	}))
	err := ff.MkdirAll("d")
	if !errors.Is(err, syscall.EIO) || !strings.HasSuffix(err.Error(), syscall.EIO.Error()) {
		t.Fatalf("err = %v", err)
	}
	wantInjected(t, err, OpMkdirAll, "d")
	must(t, NewFaulty(NewMem(), nil).MkdirAll("d"))
}
