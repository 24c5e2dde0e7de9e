package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/courier-mq/courier/internal/vfs"
)

// TestLogFaultsSurface injects one error into each kind of operation the
// append path performs (writes, syncs, segment creation on roll, index
// writes, directory syncs) and checks that the error reaches the appender,
// that no later append is acknowledged, and that everything acknowledged
// before survives a reopen.
func TestLogFaultsSurface(t *testing.T) {
	ops := []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpCreate, vfs.OpSyncDir}
	for _, op := range ops {
		for _, nth := range []int{1, 2, 5, 17} {
			t.Run(fmt.Sprintf("%v-%d", op, nth), func(t *testing.T) { faultRound(t, op, nth) })
		}
	}
}

func faultRound(t *testing.T, op vfs.Op, nth int) {
	inner := vfs.NewMem()
	tog := &armed{op: op, nth: nth}
	fs := vfs.NewFaulty(inner, tog)
	o := Options{FS: fs, MaxSegmentBytes: 600, IndexInterval: 64}
	l := mustOpen(t, "p", o)
	tog.on.Store(true) // only the append path from here on
	ok := map[int64][]byte{}
	var failed error
	for i := range 100 {
		r := rec(i, "k")
		off, err := l.Append(context.Background(), []Record{r})
		if failed != nil {
			if err == nil {
				t.Fatalf("append %d acknowledged after the failure %v", i, failed)
			}
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("append after failure: %v, want ErrFailed", err)
			}
			continue
		}
		if err != nil {
			if !errors.Is(err, vfs.ErrInjected) || !errors.Is(err, ErrFailed) {
				t.Fatalf("append %d: %v, want the injected fault as ErrFailed", i, err)
			}
			failed = err
			continue
		}
		ok[off] = r.Value
	}
	if failed == nil && tog.count.Load() >= int64(nth) {
		t.Fatalf("fault on %v #%d was injected but never surfaced", op, nth)
	}
	l.Close()
	tog.on.Store(false)
	l = mustOpen(t, "p", Options{FS: inner, MaxSegmentBytes: 600})
	defer mustClose(t, l)
	got := readAll(t, l, 0)
	for off, v := range ok {
		if off >= int64(len(got)) || !bytes.Equal(got[off].Value, v) {
			t.Fatalf("acknowledged offset %d lost after fault %v", off, failed)
		}
	}
}

// TestLogOpenFaultsSurface fails each read-side operation of Open in turn:
// Open reports the injected error (or succeeds if it never happened) and
// never panics; a later clean Open still sees all the data.
func TestLogOpenFaultsSurface(t *testing.T) {
	inner := vfs.NewMem()
	l := mustOpen(t, "p", Options{FS: inner, MaxSegmentBytes: 600})
	for i := range 60 {
		mustAppend(t, l, rec(i, "k"))
	}
	l.Close()
	// Leave the last segment without its index, as a crash would.
	names, _ := inner.List("p")
	if err := inner.Remove("p/" + names[len(names)-2]); err != nil || !strings.HasSuffix(names[len(names)-2], indexSuffix) {
		t.Fatalf("remove last index %v: %v", names, err)
	}
	for _, op := range []vfs.Op{vfs.OpList, vfs.OpOpen, vfs.OpOpenReadWrite, vfs.OpRead, vfs.OpSize, vfs.OpStat, vfs.OpRemove, vfs.OpSyncDir} {
		for nth := 1; nth <= 4; nth++ {
			l, err := Open("p", Options{FS: vfs.NewFaulty(inner, vfs.OnNth(op, nth)), JanitorInterval: -1})
			if err != nil {
				if !errors.Is(err, vfs.ErrInjected) {
					t.Fatalf("%v #%d: %v does not wrap the injected fault", op, nth, err)
				}
				continue
			}
			checkSeq(t, readAll(t, l, 0), 0, 60)
			l.Close()
		}
	}
	l = mustOpen(t, "p", Options{FS: inner})
	defer mustClose(t, l)
	checkSeq(t, readAll(t, l, 0), 0, 60)
}

// armed fails the nth occurrence of op once switched on.
type armed struct {
	op    vfs.Op
	nth   int
	on    atomic.Bool
	count atomic.Int64
}

func (a *armed) Inject(op vfs.Op, path string) error {
	if !a.on.Load() || op != a.op {
		return nil
	}
	if a.count.Add(1) == int64(a.nth) {
		return fmt.Errorf("%v #%d on %s", op, a.nth, path)
	}
	return nil
}
