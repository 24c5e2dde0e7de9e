// Package harness is the workload of the broker-core benchmarks, shared by
// Courier's (bench/core) and the peers' (bench/peers/nats, its own module),
// so that every broker gets exactly the same shapes, clocks and
// statistics:
//
//   - N publishers, each publishing one message at a time and waiting for
//     its acknowledgement, optionally paced to a total rate;
//   - end to end: the same publishers, with consumers that call
//     Receiver.Got for every message they receive (and then ack it);
//     latency runs from the publish call's start, stamped in the payload,
//     to Got;
//   - measurements cut into slices, interleaved with baselines that run
//     for as long as each slice took (the disk's speed drifts).
//
// Latencies are on the monotonic clock of one process.
package harness

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// epoch is the zero of payload stamps: time.Since(epoch) is monotonic.
var epoch = time.Now()

// StampBytes is how much of a payload the stamp takes.
const StampBytes = 8

// Stamp writes the current time into the head of p.
func Stamp(p []byte) { binary.LittleEndian.PutUint64(p, uint64(time.Since(epoch))) }

// Age returns how long ago p was stamped.
func Age(p []byte) time.Duration {
	if len(p) < StampBytes {
		return -1
	}
	return time.Since(epoch) - time.Duration(binary.LittleEndian.Uint64(p))
}

// Payload returns n incompressible bytes (at least StampBytes).
func Payload(n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	p := make([]byte, max(n, StampBytes))
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// Run is what one measurement saw: Msgs messages in Elapsed, with one
// latency per message where recorded. Lat is the headline latency (per
// publish for publish runs, end to end for end-to-end runs); PubLat is the
// publish latency of an end-to-end run; Lag is how late paced publishers
// started each publish against their schedule.
type Run struct {
	Msgs    int64
	Elapsed time.Duration
	Lat     []time.Duration
	PubLat  []time.Duration
	Lag     []time.Duration
	Extra   int64 // messages received beyond those published (redeliveries)
}

// Add sums o into r.
func (r *Run) Add(o *Run) {
	r.Msgs += o.Msgs
	r.Elapsed += o.Elapsed
	r.Lat = append(r.Lat, o.Lat...)
	r.PubLat = append(r.PubLat, o.PubLat...)
	r.Lag = append(r.Lag, o.Lag...)
	r.Extra += o.Extra
}

// Rate is messages per second.
func (r *Run) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Msgs) / r.Elapsed.Seconds()
}

// Quantile returns the q-quantile of lat in microseconds (nearest rank).
// It sorts lat.
func Quantile(lat []time.Duration, q float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	i := min(int(q*float64(len(lat))), len(lat)-1)
	return float64(lat[i].Nanoseconds()) / 1e3
}

// PublishFunc publishes p as publisher pub (0 ≤ pub < Publishers) and
// returns once the broker has acknowledged it. p is the publisher's own
// buffer: it is stamped again for the next message once PublishFunc
// returns.
type PublishFunc func(pub int, p []byte) error

// Load is one workload shape.
type Load struct {
	Publishers int
	Size       int     // payload bytes, stamp included
	Rate       float64 // total messages per second; 0: as fast as acks return
}

// Publish makes n publishes and returns their latencies.
func (l Load) Publish(n int, publish PublishFunc) (*Run, error) {
	r, err := l.publish(n, publish)
	if err != nil {
		return nil, err
	}
	r.Lat, r.PubLat = r.PubLat, nil
	return r, nil
}

// publish runs the publishers over n messages. Message j is due at
// start + j/Rate when paced; publishers take the next message when they
// are done with their last one, so at most Publishers are outstanding.
func (l Load) publish(n int, publish PublishFunc) (*Run, error) {
	r := &Run{Msgs: int64(n), PubLat: make([]time.Duration, n)}
	if l.Rate > 0 {
		r.Lag = make([]time.Duration, n)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, l.Publishers)
	start := time.Now()
	for pub := range l.Publishers {
		wg.Go(func() {
			p := Payload(l.Size)
			for j := next.Add(1) - 1; j < int64(n); j = next.Add(1) - 1 {
				if l.Rate > 0 {
					due := start.Add(time.Duration(float64(j) / l.Rate * 1e9))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
					r.Lag[j] = max(time.Since(due), 0)
				}
				Stamp(p)
				t0 := time.Now()
				if err := publish(pub, p); err != nil {
					errs <- fmt.Errorf("publisher %d: %w", pub, err)
					return
				}
				r.PubLat[j] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	r.Elapsed = time.Since(start)
	close(errs)
	return r, <-errs
}

// EndToEnd makes n publishes and waits until rcv has got n messages (at
// most timeout). Elapsed runs from the first publish to the last receipt.
func (l Load) EndToEnd(n int, publish PublishFunc, rcv *Receiver, timeout time.Duration) (*Run, error) {
	w := rcv.expect(n)
	defer rcv.cur.Store(nil)
	start := time.Now()
	r, err := l.publish(n, publish)
	if err != nil {
		return nil, err
	}
	select {
	case <-w.done:
	case <-time.After(timeout):
		return nil, fmt.Errorf("received %d of %d messages within %v", w.got.Load(), n, timeout)
	}
	r.Elapsed = time.Since(start)
	r.Lat = w.lat
	r.Extra = rcv.extra.Swap(0)
	return r, nil
}

// Receiver collects end-to-end latencies from consumers.
type Receiver struct {
	cur   atomic.Pointer[window]
	extra atomic.Int64
}

type window struct {
	n      int64
	got    atomic.Int64 // indexes handed out
	filled atomic.Int64 // latencies written
	lat    []time.Duration
	done   chan struct{} // closed once all n are filled
}

func (rcv *Receiver) expect(n int) *window {
	w := &window{n: int64(n), lat: make([]time.Duration, n), done: make(chan struct{})}
	rcv.cur.Store(w)
	return w
}

// Got records one received message: call it before acking. It is safe
// for concurrent use.
func (rcv *Receiver) Got(p []byte) {
	age := Age(p)
	w := rcv.cur.Load()
	if w == nil {
		rcv.extra.Add(1)
		return
	}
	i := w.got.Add(1) - 1
	if i >= w.n {
		rcv.extra.Add(1)
		return
	}
	w.lat[i] = age
	if w.filled.Add(1) == w.n {
		close(w.done)
	}
}

// Parts is how many slices a measurement is cut into.
const Parts = 10

// Interleave makes b.N messages of measure in Parts slices, each followed
// by every baseline for as long as the slice took; b's timer runs only
// during measure. It returns the sums.
func Interleave(b *testing.B, measure func(n int) (*Run, error), baselines ...func(d time.Duration) (*Run, error)) (*Run, []*Run) {
	total, sums := &Run{}, make([]*Run, len(baselines))
	for i := range sums {
		sums[i] = &Run{}
	}
	b.ResetTimer()
	for i := range Parts {
		n := b.N*(i+1)/Parts - b.N*i/Parts
		if n == 0 {
			continue
		}
		b.StartTimer()
		r, err := measure(n)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		total.Add(r)
		for j, base := range baselines {
			br, err := base(r.Elapsed)
			if err != nil {
				b.Fatal(err)
			}
			sums[j].Add(br)
		}
	}
	return total, sums
}

// Report prints r as custom metrics: msgs/s and latency quantiles, each
// name with prefix.
func Report(b *testing.B, prefix string, r *Run) {
	b.ReportMetric(r.Rate(), prefix+"msgs/s")
	ReportLatency(b, prefix, r.Lat)
}

// ReportLatency prints p50, p99 and p99.9 of lat in µs.
func ReportLatency(b *testing.B, prefix string, lat []time.Duration) {
	b.ReportMetric(Quantile(lat, 0.50), prefix+"p50-µs")
	b.ReportMetric(Quantile(lat, 0.99), prefix+"p99-µs")
	b.ReportMetric(Quantile(lat, 0.999), prefix+"p999-µs")
}

// ReportPaced prints what a paced run adds: the publish latency, how late
// publishers started against their schedule, and the target rate.
func ReportPaced(b *testing.B, target float64, r *Run) {
	b.ReportMetric(target, "target-msgs/s")
	ReportLatency(b, "pub-", r.PubLat)
	b.ReportMetric(Quantile(r.Lag, 0.99), "lag-p99-µs")
}

// MaxRates remembers the highest unpaced end-to-end rate each shape
// reached in this process, so that a paced benchmark can run at half of
// it.
type MaxRates struct {
	mu sync.Mutex
	m  map[string]float64
}

// Set records rate for key (the last measurement wins: the framework's
// final, longest round).
func (mr *MaxRates) Set(key string, rate float64) {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	if mr.m == nil {
		mr.m = map[string]float64{}
	}
	mr.m[key] = rate
}

// Get returns the rate for key, or calibrates it with measure (an unpaced
// run of n messages) for about a second when none was recorded.
func (mr *MaxRates) Get(key string, measure func(n int) (*Run, error)) (float64, error) {
	mr.mu.Lock()
	rate, ok := mr.m[key]
	mr.mu.Unlock()
	if ok {
		return rate, nil
	}
	r, err := measure(200)
	if err != nil {
		return 0, err
	}
	if r, err = measure(max(int(r.Rate()), 200)); err != nil {
		return 0, err
	}
	if r.Rate() <= 0 {
		return 0, errors.New("calibration measured no rate")
	}
	mr.Set(key, r.Rate())
	return r.Rate(), nil
}

// SizeName names a payload size: 128B, 1KiB.
func SizeName(n int) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}

// Sizes and publisher counts of the benchmarks.
var (
	Sizes      = []int{128, 1024}
	Publishers = []int{1, 16}
)

// Consumers is how many members the consuming group has.
const Consumers = 4

// PacedPublishers is the publisher count of the paced runs.
const PacedPublishers = 16
