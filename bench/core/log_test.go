package core

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
	"github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/vfs"
)

// logBaseline is the log's own group commit: appenders each append one
// record (a value of the benchmark's payload size) at a time to a bare
// log with its defaults (SyncAlways), waiting for each to be durable.
// Its segment files go through syncTimer, so the baseline also tells how
// many records each fsync carried and how long fsyncs took on this disk in
// the same slices.
type logBaseline struct {
	l         *log.Log
	fs        *syncTimer
	appenders int
	recs      []log.Record
}

func newLogBaseline(b *testing.B, appenders, size int) *logBaseline {
	b.Helper()
	fs := &syncTimer{FS: vfs.Disk}
	l, err := log.Open(b.TempDir(), log.Options{FS: fs, JanitorInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	return &logBaseline{l: l, fs: fs, appenders: appenders, recs: []log.Record{{Value: harness.Payload(size)}}}
}

// run appends for d and returns the appends and their latencies.
func (lb *logBaseline) run(d time.Duration) (*harness.Run, error) {
	var mu sync.Mutex
	var n atomic.Int64
	r := &harness.Run{}
	errs := make(chan error, lb.appenders)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range lb.appenders {
		wg.Go(func() {
			var lat []time.Duration
			defer func() {
				mu.Lock()
				r.Lat = append(r.Lat, lat...)
				mu.Unlock()
			}()
			for t0 := time.Now(); t0.Before(deadline); t0 = time.Now() {
				if _, err := lb.l.Append(context.Background(), lb.recs); err != nil {
					errs <- err
					return
				}
				lat = append(lat, time.Since(t0))
				n.Add(1)
			}
		})
	}
	wg.Wait()
	r.Elapsed, r.Msgs = time.Since(start), n.Load()
	close(errs)
	return r, <-errs
}

// publish appends p as one record: the log driven by harness.Load.
func (lb *logBaseline) publish(_ int, p []byte) error {
	_, err := lb.l.Append(context.Background(), []log.Record{{Value: p}})
	return err
}

// close closes the log and reports, for all the appends r counted, the
// records per fsync and the fsync latencies (fsync-p50-µs, ...).
func (lb *logBaseline) close(b *testing.B, r *harness.Run) {
	b.Helper()
	if err := lb.l.Close(); err != nil {
		b.Fatal(err)
	}
	if r == nil {
		return
	}
	lb.fs.mu.Lock()
	defer lb.fs.mu.Unlock()
	b.ReportMetric(float64(r.Msgs)/float64(max(len(lb.fs.mu.lat), 1)), "log-rec/fsync")
	harness.ReportLatency(b, "fsync-", lb.fs.mu.lat)
}

// syncTimer is vfs.Disk with the fsyncs of segment files (*.log) timed.
type syncTimer struct {
	vfs.FS
	mu struct {
		sync.Mutex
		lat []time.Duration
	}
}

func (t *syncTimer) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &timedFile{File: f, t: t}, nil
}

func (t *syncTimer) Create(name string) (vfs.File, error) {
	f, err := t.FS.Create(name)
	return t.wrap(name, f, err)
}

func (t *syncTimer) OpenReadWrite(name string) (vfs.File, error) {
	f, err := t.FS.OpenReadWrite(name)
	return t.wrap(name, f, err)
}

type timedFile struct {
	vfs.File
	t *syncTimer
}

func (f *timedFile) Sync() error {
	t0 := time.Now()
	err := f.File.Sync()
	d := time.Since(t0)
	f.t.mu.Lock()
	f.t.mu.lat = append(f.t.mu.lat, d)
	f.t.mu.Unlock()
	return err
}
