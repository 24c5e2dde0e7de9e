package log

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/vfs"
)

// TestLogOnSyncTimesEverySync counts the hook's calls: one per append
// under SyncAlways, none for appends under SyncNone, and the syncs of
// Close.
func TestLogOnSyncTimesEverySync(t *testing.T) {
	for _, policy := range []SyncPolicy{SyncAlways, SyncNone} {
		t.Run(policy.String(), func(t *testing.T) {
			var calls atomic.Int64
			var neg atomic.Bool
			o := Options{FS: vfs.NewMem(), Sync: policy, OnSync: func(d time.Duration) {
				calls.Add(1)
				neg.Store(neg.Load() || d < 0)
			}}
			l := mustOpen(t, "log", o)
			before := calls.Load()
			for i := range 5 {
				mustAppend(t, l, rec(i, "k"))
			}
			want := int64(5)
			if policy == SyncNone {
				want = 0
			}
			if got := calls.Load() - before; got != want {
				t.Errorf("%d syncs for 5 appends, want %d", got, want)
			}
			before = calls.Load()
			mustClose(t, l)
			if calls.Load() == before {
				t.Error("Close synced nothing through the hook")
			}
			if neg.Load() {
				t.Error("negative duration")
			}
		})
	}
}

// TestLogCountRecords counts records by batch headers, from an offset.
func TestLogCountRecords(t *testing.T) {
	l := mustOpen(t, "log", Options{FS: vfs.NewMem()})
	defer mustClose(t, l)
	mustAppend(t, l, rec(0, "a"), rec(1, "b"), rec(2, "c"))
	mustAppend(t, l, rec(3, "d"), rec(4, "e"))
	c, err := l.Read(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for from, want := range []int64{5, 4, 3, 2, 1, 0} {
		if got := CountRecords(c.Data, int64(from)); got != want {
			t.Errorf("from %d: %d records, want %d", from, got, want)
		}
	}
	if got := CountRecords(c.Data[:len(c.Data)-1], 0); got != 3 {
		t.Errorf("with the second batch cut short: %d records, want 3", got)
	}
	if got := CountRecords(nil, 0); got != 0 {
		t.Errorf("no data: %d records", got)
	}
}
