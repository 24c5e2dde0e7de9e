package logbench

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/vfs"
)

// run is what one measurement saw: ops operations (appends, reads, or raw
// write+fsync or pread calls) moving records records and bytes bytes in
// elapsed, with the latency of each op where it was recorded.
type run struct {
	ops     int
	records int64
	bytes   int64
	elapsed time.Duration
	lat     []time.Duration // one per op, in any order
}

func (r *run) add(o *run) {
	r.ops += o.ops
	r.records += o.records
	r.bytes += o.bytes
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
}

func (r *run) recordsPerSec() float64 { return float64(r.records) / r.elapsed.Seconds() }
func (r *run) mbPerSec() float64      { return float64(r.bytes) / 1e6 / r.elapsed.Seconds() }

// quantile returns the q-quantile of the op latencies in microseconds
// (nearest rank). It sorts lat.
func (r *run) quantile(q float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	slices.Sort(r.lat)
	i := min(int(q*float64(len(r.lat))), len(r.lat)-1)
	return float64(r.lat[i].Nanoseconds()) / 1e3
}

// parts is how many slices a measurement is cut into. After each slice
// every baseline runs for as long as the slice took, so that drift of
// the disk (this machine's fsync latency moves several-fold within
// minutes) and the burst budget of a virtual disk hit both alike.
const parts = 20

// interleave makes b.N ops of measure in parts slices, each followed by
// every baseline for as long as the slice took; b's timer runs only
// during measure. It returns the sums.
func interleave(b *testing.B, measure func(n int) *run, baselines ...func(d time.Duration) *run) (*run, []*run) {
	total, sums := &run{}, make([]*run, len(baselines))
	for i := range sums {
		sums[i] = &run{}
	}
	b.ResetTimer()
	for i := range parts {
		n := b.N*(i+1)/parts - b.N*i/parts
		if n == 0 {
			continue
		}
		b.StartTimer()
		r := measure(n)
		b.StopTimer()
		total.add(r)
		for j, base := range baselines {
			sums[j].add(base(r.elapsed))
		}
	}
	return total, sums
}

// report prints an append run as custom metrics: records/s, stored
// MB/s (1 MB = 10^6 bytes) and Append latency quantiles.
func (r *run) report(b *testing.B) {
	b.ReportMetric(r.recordsPerSec(), "records/s")
	b.ReportMetric(r.mbPerSec(), "MB/s")
	b.ReportMetric(r.quantile(0.50), "p50-µs")
	b.ReportMetric(r.quantile(0.99), "p99-µs")
}

// reportRaw prints a raw write+fsync run; its latencies are per write+fsync.
func reportRaw(b *testing.B, prefix string, r *run) {
	b.ReportMetric(r.recordsPerSec(), prefix+"records/s")
	b.ReportMetric(r.quantile(0.50), prefix+"p50-µs")
	b.ReportMetric(r.quantile(0.99), prefix+"p99-µs")
}

// reportRatio prints the log's stored-bytes rate over the raw run's. Both
// move the same bytes per record, so it is also the ratio of records/s.
func reportRatio(b *testing.B, name string, logRun, raw *run) {
	b.ReportMetric(logRun.mbPerSec()/raw.mbPerSec(), name)
}

// countingFS is vfs.Disk with counters on the segment files (*.log): how
// many writes and fsyncs the log issued, to show how many records group
// commit put behind each fsync. It adds two atomic increments per call.
type countingFS struct {
	vfs.FS
	writes, syncs atomic.Int64
}

func newCountingFS() *countingFS { return &countingFS{FS: vfs.Disk} }

func (c *countingFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &countingFile{File: f, fs: c}, nil
}

func (c *countingFS) Create(name string) (vfs.File, error) {
	f, err := c.FS.Create(name)
	return c.wrap(name, f, err)
}

func (c *countingFS) OpenReadWrite(name string) (vfs.File, error) {
	f, err := c.FS.OpenReadWrite(name)
	return c.wrap(name, f, err)
}

type countingFile struct {
	vfs.File
	fs *countingFS
}

func (f *countingFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.writes.Add(1)
	return f.File.WriteAt(p, off)
}

func (f *countingFile) Sync() error {
	f.fs.syncs.Add(1)
	return f.File.Sync()
}
