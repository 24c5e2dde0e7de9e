package kafka

import (
	"fmt"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
)

// rawDepth is how many fetches the raw consumer keeps in flight beside
// the kgo figures.
const rawDepth = 4

// BenchmarkKafkaConsumeRaw: only the raw consumer (rawconsumer_test.go)
// reads the whole read topic per iteration, with 1 or rawDepth fetches in
// flight, for profiling the broker's side without kgo in the process.
// MB/s counts the bytes of the segment files, as BenchmarkKafkaConsume
// does.
func BenchmarkKafkaConsumeRaw(b *testing.B) {
	for _, fetch := range []int{1 << 20, 16 << 20} {
		for _, depth := range []int{1, rawDepth} {
			name := fmt.Sprintf("partition-fetch=%s/depth=%d", harness.SizeName(fetch), depth)
			b.Run(name, func(b *testing.B) { benchConsumeRaw(b, depth, fetch) })
		}
	}
}

func benchConsumeRaw(b *testing.B, depth, fetch int) {
	s := &readEnv
	if err := s.setup(); err != nil {
		b.Fatal(err)
	}
	if _, err := rawRead(s.paths, make([]byte, 1<<20)); err != nil { // warm the page cache
		b.Fatal(err)
	}
	var st rawConsumeStats
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		d, err := rawConsumeAll(s, depth, fetch, &st)
		if err != nil {
			b.Fatal(err)
		}
		total += d
	}
	b.ReportMetric(float64(s.stored)*float64(b.N)/total.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(s.records)*float64(b.N)/total.Seconds(), "records/s")
	st.report(b, "")
}

// rawConsumeStats sums the raw consumer's passes.
type rawConsumeStats struct {
	fetches, wasted, bytes int64
}

func (st *rawConsumeStats) report(b *testing.B, prefix string) {
	if st.fetches == 0 {
		return
	}
	b.ReportMetric(float64(st.bytes)/float64(st.fetches)/1e3, prefix+"fetch-resp-kB")
	b.ReportMetric(float64(st.wasted)/float64(st.fetches), prefix+"wasted/fetch")
}

// rawConsumeAll reads the read topic from offset 0 to its end with a new
// raw consumer and returns how long that took (connecting included).
func rawConsumeAll(s *sharedRead, depth, fetch int, st *rawConsumeStats) (time.Duration, error) {
	start := time.Now()
	c, err := dialRawConsumer(s.c.addr, "read", depth, int32(fetch))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.consume(s.records); err != nil {
		return 0, fmt.Errorf("raw consumer: %w", err)
	}
	d := time.Since(start)
	st.fetches += c.fetches
	st.wasted += c.wasted
	st.bytes += c.bytes
	return d, nil
}
