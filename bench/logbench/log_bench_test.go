package logbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/vfs"
)

func openLog(b *testing.B, dir string, o log.Options) *log.Log {
	b.Helper()
	if o.FS == nil {
		o.FS = vfs.Disk
	}
	o.JanitorInterval = -1
	l, err := log.Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

func closeLog(b *testing.B, l *log.Log) {
	b.Helper()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLogAppendConcurrent is group commit's test: each of n
// appenders appends one record at a time and waits for it to be durable
// (SyncAlways). Latencies are per Append.
//
// ratio-to-raw compares with raw write+fsync of n single-record batches
// per write, which is what perfect group commit would do (the goals are
// stated against it). records/fsync is what group commit really did, and
// ratio-to-group-raw compares with raw writes of that many batches.
func BenchmarkLogAppendConcurrent(b *testing.B) {
	for _, size := range recordSizes {
		for _, n := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("rec=%s/appenders=%d", sizeName(size), n), func(b *testing.B) {
				benchAppend(b, n, 1, size)
			})
		}
	}
}

// BenchmarkLogAppendBatch appends batches of 256 records from one
// appender, each durable before the next. The raw baseline writes the
// same 256-record batch per write+fsync.
func BenchmarkLogAppendBatch(b *testing.B) {
	for _, size := range recordSizes {
		b.Run(fmt.Sprintf("rec=%s/batch=256", sizeName(size)), func(b *testing.B) {
			benchAppend(b, 1, 256, size)
		})
	}
}

// benchAppend makes b.N Appends of per records of size bytes from
// appenders goroutines, interleaved with the raw baselines.
func benchAppend(b *testing.B, appenders, per, size int) {
	fs := newCountingFS()
	l := openLog(b, benchDir(b), log.Options{FS: fs})
	recs := records(per, size)
	frame := len(encoded(recs))
	var syncs, appended int64
	measure := func(n int) *run {
		s0 := fs.syncs.Load()
		r := appendConcurrently(b, l, appenders, recs, n)
		syncs += fs.syncs.Load() - s0
		appended += r.records
		r.bytes = int64(n * frame)
		return r
	}
	nominal := writeShape{appenders, per}
	baselines := []func(time.Duration) *run{newRawWriter(b, nominal, size).run}
	grouped := per == 1 && appenders > 1
	if grouped {
		g := newRawWriter(b, nominal, size)
		baselines = append(baselines, func(d time.Duration) *run {
			g.setShape(writeShape{max(int(float64(appended)/float64(max(syncs, 1))+0.5), 1), 1})
			return g.run(d)
		})
	}
	r, raws := interleave(b, measure, baselines...)
	closeLog(b, l)
	r.report(b)
	b.ReportMetric(float64(appended)/float64(max(syncs, 1)), "records/fsync")
	reportRaw(b, "raw-", raws[0])
	reportRatio(b, "ratio-to-raw", r, raws[0])
	if grouped {
		b.ReportMetric(raws[1].recordsPerSec(), "group-raw-records/s")
		reportRatio(b, "ratio-to-group-raw", r, raws[1])
	}
}

// appendConcurrently makes n Appends of recs from appenders goroutines.
func appendConcurrently(b *testing.B, l *log.Log, appenders int, recs []log.Record, n int) *run {
	ctx := context.Background()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range appenders {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				t0 := time.Now()
				if _, err := l.Append(ctx, recs); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	return &run{ops: n, records: int64(n * len(recs)), elapsed: time.Since(start), lat: lat}
}

// readData is one log to read: records of size bytes appended per in an
// Append, bytes in all.
type readData struct {
	size, per int
	bytes     func(b *testing.B) int64
}

func (d readData) String() string { return fmt.Sprintf("data=%sx%drec", sizeName(d.size), d.per) }

var readSets = []readData{
	// Large batches: the common case for Kafka producers and for batched
	// publishers.
	{1 * kib, 256, func(b *testing.B) int64 { return envBytes(b, "COURIER_BENCH_READ_BYTES", 256*mib) }},
	// One small record per batch: the worst case, a CRC and a header per
	// 197 bytes.
	{128, 1, func(b *testing.B) int64 { return envBytes(b, "COURIER_BENCH_READ_BYTES", 256*mib) / 4 }},
}

var readChunks = []int{64 * kib, 1 * mib}

// BenchmarkLogRead reads a log front to back from the page cache with
// ReadInto(buf, offset, chunk), over and over, reusing one buffer as a
// consumer that is done with each chunk would. Every read verifies the CRC
// of every batch it returns. The raw baseline reads the
// same segment files front to back with chunk-sized pread(2) calls into
// one reused buffer.
func BenchmarkLogRead(b *testing.B) {
	for _, d := range readSets {
		for _, chunk := range readChunks {
			b.Run(d.String()+"/chunk="+sizeName(chunk), func(b *testing.B) {
				dir := readFixture(b, d)
				l := openLog(b, dir, log.Options{})
				defer closeLog(b, l)
				readPass(b, l, chunk) // warm the cache
				lr := &logReader{b: b, l: l, chunk: chunk}
				raw := newRawReader(b, segmentFiles(b, dir), chunk)
				r, raws := interleave(b, lr.run, raw.run)
				b.ReportMetric(r.mbPerSec(), "MB/s")
				b.ReportMetric(raws[0].mbPerSec(), "raw-MB/s")
				reportRatio(b, "ratio-to-raw", r, raws[0])
			})
		}
	}
}

// logReader reads a log sequentially in chunks, starting again at the
// log start when it reaches the end.
type logReader struct {
	b     *testing.B
	l     *log.Log
	chunk int
	off   int64
	buf   []byte
}

// run makes n Reads.
func (lr *logReader) run(n int) *run {
	r := &run{ops: n}
	start := time.Now()
	hw := lr.l.HighWatermark()
	for range n {
		c, err := lr.l.ReadInto(lr.buf, lr.off, lr.chunk)
		if err != nil {
			lr.b.Fatal(err)
		}
		lr.buf = c.Data
		r.bytes += int64(len(c.Data))
		if lr.off = c.Next; lr.off >= hw {
			lr.off = lr.l.StartOffset()
		}
	}
	r.elapsed = time.Since(start)
	return r
}

// readPass reads the whole log once.
func readPass(b *testing.B, l *log.Log, chunk int) {
	for off, hw := l.StartOffset(), l.HighWatermark(); off < hw; {
		c, err := l.Read(off, chunk)
		if err != nil {
			b.Fatal(err)
		}
		off = c.Next
	}
}

func readFixture(b *testing.B, d readData) string {
	recs := records(d.per, d.size)
	batches := d.bytes(b) / int64(len(encoded(recs)))
	appenders := 1
	if d.per == 1 {
		appenders = 16
	}
	return fixture(b, fmt.Sprintf("read-%s-%d", d, batches), func(dir string) error {
		return fill(dir, recs, batches, appenders)
	})
}

// fill makes n Appends of recs from appenders goroutines, without fsync
// per append (rolls and Close still sync), so the result on disk is what
// SyncAlways would have left.
func fill(dir string, recs []log.Record, n int64, appenders int) error {
	l, err := log.Open(dir, log.Options{FS: vfs.Disk, Sync: log.SyncNone, JanitorInterval: -1})
	if err != nil {
		return err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, appenders)
	for range appenders {
		wg.Go(func() {
			for next.Add(1) <= n {
				if _, err := l.Append(context.Background(), recs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		l.Close()
		return err
	}
	return l.Close()
}

// segmentFiles returns the paths of a log's segment files, in order.
func segmentFiles(b *testing.B, dir string) []string {
	return filesWithSuffix(b, dir, ".log")
}

func filesWithSuffix(b *testing.B, dir, suffix string) []string {
	b.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var paths []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(paths)
	return paths
}

// BenchmarkLogReopen times Open of a log of COURIER_BENCH_REOPEN_BYTES
// (default 1 GiB) in 128 MiB segments of 1 KiB records.
//
// after=clean: the log was closed, so every segment has a valid index and
// Open reads only the index files. after=crash: the last segment has no
// index file, the state a crash (SIGKILL or power loss, once the torn tail
// is gone) leaves, since the active segment's index lives in memory until
// roll or Close; Open scans and CRC-checks the whole last segment. The
// state is made by deleting the last index after a clean close.
//
// cache=warm: the files are in the page cache (a process crash). cache=cold:
// every file of the log was evicted from the page cache first with
// posix_fadvise (a machine restart; a hypervisor may still cache them).
//
// The raw baseline reads, with 1 MiB preads in the same cache state, the
// bytes Open must read: the index files, plus the last segment after a
// crash. ratio-to-raw is raw time / Open time.
func BenchmarkLogReopen(b *testing.B) {
	for _, after := range []string{"clean", "crash"} {
		for _, cache := range []string{"warm", "cold"} {
			b.Run("after="+after+"/cache="+cache, func(b *testing.B) {
				benchReopen(b, after == "crash", cache == "cold")
			})
		}
	}
}

func benchReopen(b *testing.B, crash, cold bool) {
	recs := records(256, kib)
	batches := reopenBatches(envBytes(b, "COURIER_BENCH_REOPEN_BYTES", gib), len(encoded(recs)))
	dir := fixture(b, fmt.Sprintf("reopen-%d", batches), func(dir string) error {
		return fill(dir, recs, batches, 1)
	})
	if cold && !canDropCache {
		b.Skip("no way to evict files from the page cache here")
	}
	l := openLog(b, dir, log.Options{})
	st := l.Stats()
	closeLog(b, l)
	var openTime, rawTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		rawTime += timeRecoveryRead(b, dir, crash, cold)
		prepareReopen(b, dir, crash, cold)
		b.StartTimer()
		t0 := time.Now()
		l, err := log.Open(dir, log.Options{FS: vfs.Disk, JanitorInterval: -1})
		openTime += time.Since(t0)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if got := l.HighWatermark(); got != st.HighWatermark {
			b.Fatalf("reopened log ends at %d, want %d", got, st.HighWatermark)
		}
		closeLog(b, l)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(openTime.Microseconds())/1e3/float64(b.N), "ms/open")
	b.ReportMetric(float64(rawTime.Microseconds())/1e3/float64(b.N), "raw-ms")
	b.ReportMetric(rawTime.Seconds()/openTime.Seconds(), "ratio-to-raw")
	b.ReportMetric(float64(st.Bytes)/gib, "GiB")
	b.ReportMetric(float64(st.Segments), "segments")
}

// reopenBatches is how many batches of frame bytes make a log of about
// total bytes in whole, full segments, so that the last segment, which a
// crash makes Open scan, is as large as it can be.
func reopenBatches(total int64, frame int) int64 {
	perSeg := int64(segmentBytes / frame)
	segs := max((total+perSeg*int64(frame)/2)/(perSeg*int64(frame)), 1)
	return segs * perSeg
}

// prepareReopen leaves dir as a crash would (no index for the last
// segment) if crash is set, and evicts its files from the cache if cold.
func prepareReopen(b *testing.B, dir string, crash, cold bool) {
	b.Helper()
	if crash {
		segs := segmentFiles(b, dir)
		last := strings.TrimSuffix(segs[len(segs)-1], ".log") + ".index"
		if err := os.Remove(last); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
		if err := syncDir(dir); err != nil {
			b.Fatal(err)
		}
	}
	if !cold {
		return
	}
	for _, p := range filesWithSuffix(b, dir, "") {
		if err := dropCache(p); err != nil {
			b.Fatal(err)
		}
	}
}

// timeRecoveryRead times the raw read of the bytes Open must read, in the
// same state: every index file, and the last segment after a crash.
func timeRecoveryRead(b *testing.B, dir string, crash, cold bool) time.Duration {
	prepareReopen(b, dir, crash, cold)
	paths := filesWithSuffix(b, dir, ".index")
	if crash {
		segs := segmentFiles(b, dir)
		paths = append(paths, segs[len(segs)-1])
	}
	buf := make([]byte, mib)
	t0 := time.Now()
	if _, err := rawRead(paths, buf); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}
