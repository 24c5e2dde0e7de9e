package kafka

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
	"github.com/twmb/franz-go/pkg/kgo"
)

const linger = 5 * time.Millisecond

// e2ePublishers is how many publishers share the paced load: each waits
// for its ack (linger + fsync, several ms), so 2,000/s needs dozens.
const e2ePublishers = 64

// BenchmarkKafkaProduce: P kgo producers (acks=all, idempotent, linger
// 5 ms, no compression), producer i writing partition i of a durable
// topic, interleaved slice by slice with raw write+fsync of batch-sized
// writes from P writers at once, each into its own file. MB/s counts record values; latencies run from each Produce call
// to its promise (so they include the wait in kgo's buffer).
func BenchmarkKafkaProduce(b *testing.B) {
	for _, size := range harness.Sizes {
		for _, batch := range []int{16 << 10, 1 << 20} {
			for _, prods := range []int{1, 4} {
				name := fmt.Sprintf("rec=%s/batch=%s/producers=%d", harness.SizeName(size), harness.SizeName(batch), prods)
				b.Run(name, func(b *testing.B) { benchProduce(b, size, batch, prods) })
			}
		}
	}
}

func benchProduce(b *testing.B, size, batch, prods int) {
	dir := benchDir(b)
	c := startCourierB(b, dir+"/courier")
	const topic = "produce"
	if err := c.createTopic(topic, prods, ""); err != nil {
		b.Fatal(err)
	}
	var stats batchStats
	// kgo buffers at most 8 full batches per producer: enough for its 5
	// produce requests in flight, and a bound on the wait in the buffer.
	buffered := max(256, 8*batch/size)
	clients := make([]*kgo.Client, prods)
	for i := range clients {
		cl, err := c.client(kgo.ProducerLinger(linger), kgo.ProducerBatchMaxBytes(int32(batch)),
			kgo.MaxBufferedRecords(buffered), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.DefaultProduceTopic(topic), kgo.WithHooks(&stats))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		clients[i] = cl
	}
	val := harness.Payload(size)
	ctx := context.Background()
	// Warm up: connections, producer IDs, metadata.
	for i, cl := range clients {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: int32(i), Value: val}).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	stats.batches.Store(0)
	stats.records.Store(0)
	stats.bytes.Store(0)
	raw := newRawGroup(b, dir, prods, batch)
	var cpu time.Duration // the process's CPU time in the produce slices
	measure := func(n int) (*harness.Run, error) {
		cpu0 := processCPU()
		defer func() { cpu += processCPU() - cpu0 }()
		r := &harness.Run{Msgs: int64(n), Lat: make([]time.Duration, n)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		start := time.Now()
		for p, cl := range clients {
			lo, hi := n*p/prods, n*(p+1)/prods
			wg.Add(hi - lo)
			go func() {
				for j := lo; j < hi; j++ {
					t0 := time.Now()
					cl.Produce(ctx, &kgo.Record{Partition: int32(p), Value: val}, func(_ *kgo.Record, err error) {
						r.Lat[j] = time.Since(t0)
						if err != nil {
							mu.Lock()
							firstErr = cmpErr(firstErr, err)
							mu.Unlock()
						}
						wg.Done()
					})
				}
			}()
		}
		wg.Wait()
		r.Elapsed = time.Since(start)
		return r, firstErr
	}
	n0, d0 := c.fsyncs(b)
	r, base := harness.Interleave(b, measure, raw.run)
	n1, d1 := c.fsyncs(b)
	rawMBs := float64(base[0].Msgs) * float64(batch) / base[0].Elapsed.Seconds() / 1e6
	mbs := r.Rate() * float64(size) / 1e6
	b.ReportMetric(r.Rate(), "records/s")
	b.ReportMetric(mbs, "MB/s")
	harness.ReportLatency(b, "", r.Lat)
	if n := stats.batches.Load(); n > 0 {
		b.ReportMetric(float64(stats.bytes.Load())/float64(n)/1e3, "batch-kB")
	}
	b.ReportMetric(rawMBs, "raw-MB/s")
	b.ReportMetric(harness.Quantile(base[0].Lat, 0.5), "raw-p50-µs")
	b.ReportMetric(mbs/rawMBs, "ratio-to-raw")
	if n := n1 - n0; n > 0 { // the produce slices' fsyncs (raw ones are not the broker's)
		b.ReportMetric(float64(stats.bytes.Load())/float64(n)/1e6, "MB/fsync")
		b.ReportMetric((d1-d0).Seconds()*1e3/float64(n), "fsync-ms")
		b.ReportMetric((d1-d0).Seconds()/r.Elapsed.Seconds()/float64(prods), "fsync-busy")
	}
	if cpu > 0 {
		b.ReportMetric(cpu.Seconds()*1e3/(float64(r.Msgs)*float64(size)/1e6), "cpu-ms/MB")
	}
}

// fsyncs returns how many fsyncs the broker's logs have made, and their
// total time.
func (c *courier) fsyncs(b *testing.B) (uint64, time.Duration) {
	st, err := c.srv.Stats()
	if err != nil {
		b.Fatal(err)
	}
	return st.Fsync.Count, st.Fsync.Sum
}

func cmpErr(old, err error) error {
	if old != nil {
		return old
	}
	return err
}

// BenchmarkKafkaConsume: one kgo consumer reads the whole read topic
// (COURIER_BENCH_KAFKA_READ_BYTES of 1 KiB records, one partition) from
// offset 0 per iteration, from the page cache; after each, the raw
// consumer (rawconsumer_test.go, rawDepth fetches in flight, the same
// partition fetch size) reads it too (rawcons-MB/s: what the broker serves
// a client that costs almost nothing), and the same segment files are
// read with 1 MiB preads (raw). MB/s counts the bytes of the segment
// files, as raw does; value-MB/s counts record values.
func BenchmarkKafkaConsume(b *testing.B) {
	for _, fetch := range []int{1 << 20, 16 << 20} {
		b.Run("partition-fetch="+harness.SizeName(fetch), func(b *testing.B) { benchConsume(b, fetch) })
	}
}

func (s *sharedRead) setup() error {
	s.once.Do(func() { s.err = s.fillTopic() })
	return s.err
}

// fillTopic produces the read topic with kgo: 1 KiB records in 1 MiB
// batches. The topic syncs never (SyncNone; rolls and Close still fsync):
// the files are the same as with fsync, written faster.
func (s *sharedRead) fillTopic() error {
	want := envBytes("COURIER_BENCH_KAFKA_READ_BYTES", 1<<30)
	dir, err := os.MkdirTemp(os.Getenv("COURIER_BENCH_DIR"), "kafkaread")
	if err != nil {
		return err
	}
	s.dir = dir
	if s.c, err = startCourier(dir); err != nil {
		return err
	}
	if err := s.c.createTopic("read", 1, "none"); err != nil {
		return err
	}
	cl, err := s.c.client(kgo.ProducerLinger(linger), kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(16<<10), kgo.DefaultProduceTopic("read"))
	if err != nil {
		return err
	}
	defer cl.Close()
	const size = 1024
	val := harness.Payload(size)
	s.records = want / size
	s.value = s.records * size
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	wg.Add(int(s.records))
	for range s.records {
		cl.Produce(context.Background(), &kgo.Record{Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, err)
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	s.fill = time.Since(start)
	if firstErr != nil {
		return firstErr
	}
	s.paths, s.stored, err = segmentFiles(dir)
	return err
}

func benchConsume(b *testing.B, fetch int) {
	s := &readEnv
	if err := s.setup(); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	if _, err := rawRead(s.paths, buf); err != nil { // warm the page cache
		b.Fatal(err)
	}
	var consumed, rawT, rawConsT time.Duration
	var fst fetchStats
	var rst rawConsumeStats
	b.ResetTimer()
	for range b.N {
		b.StartTimer()
		d, err := consumeAll(s, fetch, &fst)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		consumed += d
		d, err = rawConsumeAll(s, rawDepth, fetch, &rst)
		if err != nil {
			b.Fatal(err)
		}
		rawConsT += d
		t0 := time.Now()
		n, err := rawRead(s.paths, buf)
		if err != nil {
			b.Fatal(err)
		}
		rawT += time.Since(t0)
		if n != s.stored {
			b.Fatalf("raw read %d bytes of %d", n, s.stored)
		}
	}
	mbs := float64(s.stored) * float64(b.N) / consumed.Seconds() / 1e6
	rawMBs := float64(s.stored) * float64(b.N) / rawT.Seconds() / 1e6
	b.ReportMetric(mbs, "MB/s")
	b.ReportMetric(float64(s.value)*float64(b.N)/consumed.Seconds()/1e6, "value-MB/s")
	b.ReportMetric(float64(s.records)*float64(b.N)/consumed.Seconds(), "records/s")
	b.ReportMetric(rawMBs, "raw-MB/s")
	b.ReportMetric(mbs/rawMBs, "ratio-to-raw")
	rawConsMBs := float64(s.stored) * float64(b.N) / rawConsT.Seconds() / 1e6
	b.ReportMetric(rawConsMBs, "rawcons-MB/s")
	b.ReportMetric(mbs/rawConsMBs, "kgo-to-rawcons")
	rst.report(b, "rawcons-")
	b.ReportMetric(float64(s.stored)/1e6, "topic-MB")
	if n := fst.n.Load(); n > 0 {
		b.ReportMetric(float64(fst.bytes.Load())/float64(n)/1e3, "fetch-resp-kB")
		b.ReportMetric(float64(fst.wait.Load())/float64(n)/1e3, "fetch-wait-µs")
		b.ReportMetric(float64(fst.read.Load())/float64(n)/1e3, "fetch-read-µs")
	}
	b.ReportMetric(float64(s.value)/s.fill.Seconds()/1e6, "fill-MB/s")
}

// consumeAll reads the read topic from offset 0 to its end with a new
// client and returns how long that took (client start included).
func consumeAll(s *sharedRead, fetch int, fst *fetchStats) (time.Duration, error) {
	start := time.Now()
	cl, err := s.c.client(kgo.WithHooks(fst), kgo.ConsumeTopics("read"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxPartitionBytes(int32(fetch)), kgo.FetchMaxBytes(int32(max(fetch, 50<<20))))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var got, bytes int64
	for got < s.records {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("got %d of %d records: %w", got, s.records, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = cmpErr(ferr, fmt.Errorf("fetch %s[%d]: %w", t, p, err)) })
		if ferr != nil {
			return 0, ferr
		}
		fs.EachRecord(func(r *kgo.Record) { got++; bytes += int64(len(r.Value)) })
	}
	d := time.Since(start)
	if bytes != s.value {
		return 0, fmt.Errorf("consumed %d value bytes, want %d", bytes, s.value)
	}
	return d, nil
}

// BenchmarkKafkaEndToEnd: 1 KiB records at a fixed total rate from
// e2ePublishers publishers sharing one kgo producer (each
// publisher waits for its record's ack: ProduceSync), and one kgo
// consumer. Latency runs from the produce call to the consumer's receipt;
// pub- latencies are per ProduceSync. Interleaved with raw write+fsync of
// one 1 KiB write, for the disk's latency in the same run.
func BenchmarkKafkaEndToEnd(b *testing.B) {
	for _, lg := range []time.Duration{linger, 0} {
		b.Run(fmt.Sprintf("rate=2000/linger=%v", lg), func(b *testing.B) { benchEndToEnd(b, 2000, lg) })
	}
}

func benchEndToEnd(b *testing.B, rate float64, lg time.Duration) {
	const size = 1024
	dir := benchDir(b)
	c := startCourierB(b, dir+"/courier")
	const topic = "e2e"
	if err := c.createTopic(topic, 1, ""); err != nil {
		b.Fatal(err)
	}
	opts := []kgo.Opt{kgo.ProducerBatchMaxBytes(1 << 20), kgo.DefaultProduceTopic(topic)}
	if lg > 0 {
		opts = append(opts, kgo.ProducerLinger(lg))
	}
	prod, err := c.client(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	cons, err := c.client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close()
	var rcv harness.Receiver
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		for {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				done <- nil
				return
			}
			var ferr error
			fs.EachError(func(t string, p int32, err error) {
				if !errors.Is(err, context.Canceled) {
					ferr = cmpErr(ferr, fmt.Errorf("fetch %s[%d]: %w", t, p, err))
				}
			})
			if ferr != nil {
				done <- ferr
				return
			}
			fs.EachRecord(func(r *kgo.Record) { rcv.Got(r.Value) })
		}
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	publish := func(_ int, p []byte) error {
		return prod.ProduceSync(ctx, &kgo.Record{Value: p}).FirstErr()
	}
	// Warm up: connections, producer ID, the consumer's first fetch.
	load := harness.Load{Publishers: e2ePublishers, Size: size, Rate: rate}
	if _, err := load.EndToEnd(100, publish, &rcv, 30*time.Second); err != nil {
		b.Fatal(err)
	}
	raw := newRawWriter(b, filepath.Join(dir, "raw"), size)
	r, base := harness.Interleave(b, func(n int) (*harness.Run, error) {
		return load.EndToEnd(n, publish, &rcv, 30*time.Second)
	}, raw.run)
	harness.Report(b, "", r)
	harness.ReportPaced(b, rate, r)
	b.ReportMetric(harness.Quantile(base[0].Lat, 0.50), "raw-p50-µs")
	b.ReportMetric(harness.Quantile(base[0].Lat, 0.99), "raw-p99-µs")
	b.ReportMetric(float64(r.Extra), "extra")
}

// fetchStats counts the Fetch responses a consumer read (a kgo hook):
// their bytes, the time from request written to response's first byte
// (wait), and the time to read the response.
type fetchStats struct {
	n, bytes, wait, read atomic.Int64
}

func (f *fetchStats) OnBrokerRead(_ kgo.BrokerMetadata, key int16, n int, wait, read time.Duration, _ error) {
	if key != 1 { // Fetch
		return
	}
	f.n.Add(1)
	f.bytes.Add(int64(n))
	f.wait.Add(int64(wait))
	f.read.Add(int64(read))
}
