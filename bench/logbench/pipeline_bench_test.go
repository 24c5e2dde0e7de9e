package logbench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// pipelineDepth is how many batches a pipelined appender has in flight:
// kgo's five produce requests per broker.
const pipelineDepth = 5

// BenchmarkLogAppendPipelined is the Kafka produce path without the
// network: each of n appenders (one log each, in one directory) appends
// 1 MiB batches of 1 KiB records with AppendBatchIfAsync, keeping
// pipelineDepth of them in flight and waiting for the oldest before it
// appends another (SyncAlways). The raw baseline is n writers of
// write+fsync of one such batch at once, each into its own file.
// MB/fsync is what group commit put under each fsync.
func BenchmarkLogAppendPipelined(b *testing.B) {
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("batch=1MiB/depth=%d/logs=%d", pipelineDepth, n), func(b *testing.B) {
			benchPipelined(b, n)
		})
	}
}

func benchPipelined(b *testing.B, logs int) {
	fs := newCountingFS()
	batch := encoded(records(1024, 1*kib))
	ls := make([]*log.Log, logs)
	raws := make([]*rawWriter, logs)
	for i := range ls {
		ls[i] = openLog(b, benchDir(b), log.Options{FS: fs})
		raws[i] = newRawWriter(b, writeShape{1, 1024}, 1*kib)
	}
	var syncs, batches int64
	measure := func(n int) *run {
		s0 := fs.syncs.Load()
		r := appendPipelined(b, ls, batch, n)
		syncs += fs.syncs.Load() - s0
		batches += int64(n)
		return r
	}
	r, base := interleave(b, measure, func(d time.Duration) *run { return runAll(raws, d) })
	for _, l := range ls {
		closeLog(b, l)
	}
	r.report(b)
	b.ReportMetric(float64(batches)*float64(len(batch))/float64(max(syncs, 1))/1e6, "MB/fsync")
	reportRaw(b, "raw-", base[0])
	reportRatio(b, "ratio-to-raw", r, base[0])
}

// appendPipelined appends n batches, spread over the logs, each log's
// appender keeping pipelineDepth in flight.
func appendPipelined(b *testing.B, ls []*log.Log, batch []byte, n int) *run {
	type inflight struct {
		wait func(context.Context) error
		t0   time.Time
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i, l := range ls {
		count := n*(i+1)/len(ls) - n*i/len(ls)
		wg.Go(func() {
			var q []inflight
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for j := 0; j < count || len(q) > 0; j++ {
				if len(q) == pipelineDepth || (j >= count && len(q) > 0) {
					if err := q[0].wait(ctx); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(q[0].t0))
					q = q[1:]
				}
				if j >= count {
					continue
				}
				t0 := time.Now()
				_, wait, err := l.AppendBatchIfAsync(batch, nil)
				if err != nil {
					b.Error(err)
					return
				}
				q = append(q, inflight{wait, t0})
			}
		})
	}
	wg.Wait()
	return &run{ops: n, records: int64(n * 1024), bytes: int64(n * len(batch)), elapsed: time.Since(start), lat: lat}
}

// runAll runs every raw writer for d at once and sums what they did.
func runAll(ws []*rawWriter, d time.Duration) *run {
	runs := make([]*run, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() { runs[i] = w.run(d) })
	}
	wg.Wait()
	sum := &run{}
	for _, r := range runs {
		sum.ops += r.ops
		sum.records += r.records
		sum.bytes += r.bytes
		sum.elapsed = max(sum.elapsed, r.elapsed)
		sum.lat = append(sum.lat, r.lat...)
	}
	return sum
}
