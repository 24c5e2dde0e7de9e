package broker

import (
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// Traffic statistics, for metrics. The hot paths only add to atomics
// (no lock, no allocation): a stream counts what it stores (Publish and
// AppendBatch) and what leaves it (deliveries to group members and to
// subscribers, and reads through ReadPartition), and the broker times every
// fsync of the partition logs into a fixed-bucket histogram. Stats reads
// them, with the stored sizes and the groups' state, when asked (a scrape).

// streamCounters count a stream's traffic. The in and out halves sit on
// separate cache lines: publishers and consumers run on different cores.
type streamCounters struct {
	msgsIn, bytesIn   atomic.Int64
	_                 [48]byte
	msgsOut, bytesOut atomic.Int64
	_                 [48]byte
}

func (c *streamCounters) addIn(msgs, bytes int64) {
	c.msgsIn.Add(msgs)
	c.bytesIn.Add(bytes)
}

func (c *streamCounters) addOut(msgs, bytes int64) {
	c.msgsOut.Add(msgs)
	c.bytesOut.Add(bytes)
}

// batchIn counts a raw batch given its offsets: its records by the header.
func (c *streamCounters) batchIn(batch []byte) {
	if len(batch) >= log.BatchHeaderSize {
		c.addIn(log.CountRecords(batch, log.BatchBaseOffset(batch)), int64(len(batch)))
	}
}

// chunkOut counts a read of stored batches from offset: the bytes read,
// and the records at or above offset by their batch headers.
func (c *streamCounters) chunkOut(err error, data []byte, offset int64) {
	if err == nil && len(data) > 0 {
		c.addOut(log.CountRecords(data, offset), int64(len(data)))
	}
}

// ScanPartition reads stored batches as ReadPartition does, for a
// front-end's own use (not for a client: a timestamp lookup, rebuilding
// state), so the stream's out counters do not count it.
func (b *Broker) ScanPartition(stream string, part int, buf []byte, offset int64, maxBytes int) (Chunk, error) {
	_, l, err := b.partLogOf(stream, part)
	if err != nil {
		return Chunk{}, err
	}
	c, err := l.ReadInto(buf, offset, maxBytes)
	return c, logError(err)
}

// FsyncBuckets are the upper bounds, in seconds, of the fsync histogram.
var FsyncBuckets = []float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5}

// histogram counts durations into FsyncBuckets (plus one overflow bucket)
// with atomics.
type histogram struct {
	counts [16]atomic.Uint64 // len(FsyncBuckets)+1
	sum    atomic.Int64      // nanoseconds
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(FsyncBuckets) && s > FsyncBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Histogram is a snapshot of a duration histogram.
type Histogram struct {
	Bounds     []float64 // upper bounds in seconds
	Cumulative []uint64  // observations at or below each bound
	Count      uint64
	Sum        time.Duration
}

func (h *histogram) snapshot() Histogram {
	out := Histogram{Bounds: FsyncBuckets, Cumulative: make([]uint64, len(FsyncBuckets))}
	for i := range h.counts {
		out.Count += h.counts[i].Load()
		if i < len(FsyncBuckets) {
			out.Cumulative[i] = out.Count
		}
	}
	out.Sum = time.Duration(h.sum.Load())
	return out
}

// syncHook returns the log's OnSync: it feeds the broker's histogram, then
// calls next (a hook the caller had set), if any.
func (b *Broker) syncHook(next func(time.Duration)) func(time.Duration) {
	return func(d time.Duration) {
		b.fsync.observe(d)
		if next != nil {
			next(d)
		}
	}
}

// StreamStats are one stream's traffic counters since the broker opened
// (or the stream was created) and its stored size now. A message counts in
// once it has its offset (a duplicate does not). Bytes in are what
// publishers sent (key, payload and headers; a Kafka batch as received);
// bytes out are what was delivered (the same measure) plus the stored
// batches read through ReadPartition.
type StreamStats struct {
	Name        string
	MessagesIn  int64
	BytesIn     int64
	MessagesOut int64
	BytesOut    int64
	Messages    int64 // stored, across partitions
	Bytes       int64 // stored, across partitions
}

// CommitLag is a client-managed (Kafka) group's lag on one stream: the
// sum over partitions of CommitLag.
type CommitLag struct {
	Group  string
	Stream string
	Lag    int64
}

// Stats is a snapshot of the broker for metrics.
type Stats struct {
	Streams    []StreamStats // by name
	Groups     []GroupInfo   // by stream, then name
	CommitLags []CommitLag   // by group, then stream
	Fsync      Histogram
}

// Stats returns the broker's counters, stored sizes, groups and fsync
// histogram. It reads the metadata store for the client-managed groups'
// commits, so it is meant for scrapes, not hot paths.
func (b *Broker) Stats() (Stats, error) {
	if b.Closed() {
		return Stats{}, ErrClosed
	}
	st := Stats{Fsync: b.fsync.snapshot(), Groups: b.Groups("")}
	sort.SliceStable(st.Groups, func(i, j int) bool { return st.Groups[i].Config.Stream < st.Groups[j].Config.Stream })
	for _, s := range b.streamList() {
		st.Streams = append(st.Streams, s.stats())
	}
	sort.Slice(st.Streams, func(i, j int) bool { return st.Streams[i].Name < st.Streams[j].Name })
	lags, err := b.commitLags()
	st.CommitLags = lags
	return st, err
}

// Closed reports whether Close was called.
func (b *Broker) Closed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.closed
}

func (b *Broker) streamList() []*stream {
	b.mu.RLock()
	defer b.mu.RUnlock()
	list := make([]*stream, 0, len(b.streams))
	for _, s := range b.streams {
		list = append(list, s)
	}
	return list
}

func (s *stream) stats() StreamStats {
	c := &s.ctr
	in := s.info()
	out := StreamStats{Name: in.Config.Name, MessagesIn: c.msgsIn.Load(), BytesIn: c.bytesIn.Load(),
		MessagesOut: c.msgsOut.Load(), BytesOut: c.bytesOut.Load()}
	for _, p := range in.Partitions {
		out.Messages += p.Messages
		out.Bytes += p.Bytes
	}
	return out
}

// commitLags sums CommitLag for every client-managed group and stream it
// has commits on. A stream deleted since the commit is skipped.
func (b *Broker) commitLags() ([]CommitLag, error) {
	groups, err := b.CommitGroups()
	if err != nil {
		return nil, err
	}
	var out []CommitLag
	for _, g := range groups {
		cs, err := b.Committed(g, "")
		if err != nil {
			return out, err
		}
		for _, name := range commitStreams(cs) {
			lag, err := b.CommitLag(g, name)
			if err != nil {
				continue // the stream is gone; its commits are stale
			}
			var sum int64
			for _, n := range lag {
				sum += n
			}
			out = append(out, CommitLag{Group: g, Stream: name, Lag: sum})
		}
	}
	return out, nil
}

// commitStreams returns the distinct streams of cs, sorted.
func commitStreams(cs []Commit) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Stream)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
