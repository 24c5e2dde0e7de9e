package kafka

// Fetch, versions 4 to 12.
//
// Returns the stored batches as they are (a batch may start before the
// fetch offset; clients skip those records), with the high watermark,
// the last stable offset (equal to it: there are no transactions) and the
// log start offset. Per-partition and per-response byte limits hold
// except for the first batch of the response, which is whole even if
// larger (KIP-74); the response is also bounded by Options.MaxFrameBytes.
// When fewer than MinBytes are ready the request waits, up to MaxWait,
// for any requested partition to grow (one WaitPartition per partition
// with nothing new, at most maxFetchWaiters; the others are read again
// when the wait ends), and answers at once when a partition has an error.
// An offset outside [log start, high watermark] is OFFSET_OUT_OF_RANGE.
// A partition with nothing to return (no new data, an error, no room
// left in the response) has an empty record set, as Kafka sends it, never
// a null one: sarama cannot decode a null record set and drops the
// connection.
// The stored batches are read into pooled buffers of at most readChunk
// bytes each (1 MiB: a large partition fetch is several reads, each
// verified while it is in the CPU cache, into buffers the pool reuses,
// and it goes on into the next segment) and written from them
// (fetch_encode.go: the response is framed around them and goes out in
// one writev); the buffers return to the pool once it is written.
//
// Fetch sessions (KIP-227) are not supported: every response has session
// id 0, which tells the client to keep sending full requests; a request
// naming a session gets FETCH_SESSION_ID_NOT_FOUND. Not supported either:
// topic IDs (v13+), follower fetching (ReplicaID, rack), leader epoch
// checks (CurrentLeaderEpoch, LastFetchedEpoch are ignored), aborted
// transaction lists.

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	clog "github.com/courier-mq/courier/internal/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxFetchWaiters bounds the partitions one long poll waits on.
const maxFetchWaiters = 256

// defaultReadChunk is the most one read from the log takes for a fetch.
const defaultReadChunk = 1 << 20

// fetchTarget is a partition a long poll can wait on: where new data
// would start.
type fetchTarget struct {
	topic  string
	part   int
	offset int64
}

func handleFetch(c *conn, req *kmsg.FetchRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	c.fetchData = c.fetchData[:0]
	if req.Version >= 7 && req.SessionID != 0 {
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp, nil
	}
	deadline := time.Now().Add(time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond)
	for {
		total, targets, failed := c.fillFetch(req, resp)
		if failed || total >= int(req.MinBytes) || len(targets) == 0 || !time.Now().Before(deadline) {
			return resp, nil
		}
		if hook := c.s.onFetchWait.Load(); hook != nil {
			(*hook)()
		}
		if !c.waitAny(deadline, targets) {
			c.fillFetch(req, resp)
			return resp, nil
		}
	}
}

// fillFetch (re)builds the response from the stored data. It returns the
// bytes gathered, the partitions to wait on, and whether a partition
// failed.
func (c *conn) fillFetch(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) (int, []fetchTarget, bool) {
	budget := math.MaxInt32
	if req.Version >= 3 && req.MaxBytes > 0 {
		budget = int(req.MaxBytes)
	}
	budget = min(budget, c.s.opts.MaxFrameBytes-(1<<20))
	var (
		total   int
		targets []fetchTarget
		failed  bool
	)
	resp.Topics = resp.Topics[:0]
	c.fetchData = c.fetchData[:0]
	for _, rt := range req.Topics {
		ft := kmsg.NewFetchResponseTopic()
		ft.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p, data, next := c.fetchPartition(rt.Topic, rp, budget-total, total == 0)
			if data == nil { // an empty record set, never a null one
				data, p.RecordBatches = fetchData{}, []byte{}
			}
			c.fetchData = append(c.fetchData, data)
			total += data.size()
			if p.ErrorCode != 0 {
				failed = true
			} else if len(targets) < maxFetchWaiters {
				targets = append(targets, fetchTarget{rt.Topic, int(rp.Partition), next})
			}
			ft.Partitions = append(ft.Partitions, p)
		}
		resp.Topics = append(resp.Topics, ft)
	}
	return total, targets, failed
}

// fetchPartition reads one partition within budget (its first batch at
// any size if first) and returns the answer, its record data as pieces,
// and the offset that new data would start at.
func (c *conn) fetchPartition(topic string, rp kmsg.FetchRequestTopicPartition, budget int, first bool) (kmsg.FetchResponseTopicPartition, fetchData, int64) {
	p := kmsg.NewFetchResponseTopicPartition()
	p.Partition = rp.Partition
	if checkTopic(topic) != "" {
		p.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return p, nil, 0
	}
	maxBytes := min(int(max(rp.PartitionMaxBytes, 1)), max(budget, 1))
	data, ch, err := c.readPartition(topic, int(rp.Partition), rp.FetchOffset, maxBytes)
	p.HighWatermark, p.LastStableOffset, p.LogStartOffset = ch.HighWatermark, ch.HighWatermark, ch.StartOffset
	if err != nil {
		p.ErrorCode = fetchErrorCode(err)
		if p.ErrorCode == kerr.OffsetOutOfRange.Code {
			p.LogStartOffset, p.HighWatermark, _ = c.s.b.PartitionOffsets(topic, int(rp.Partition))
			p.LastStableOffset = p.HighWatermark
		}
		return p, nil, 0
	}
	if first || data.size() <= budget {
		p.RecordBatches = data.first()
		return p, data, max(ch.Next, rp.FetchOffset)
	}
	return p, nil, rp.FetchOffset
}

// readPartition reads whole batches from offset, up to maxBytes, in reads
// of at most readChunk bytes. The first read returns at least one whole
// batch even if it is larger than maxBytes (the caller decides whether
// it fits); later reads add only batches that fit. A log read returns at
// least one whole batch, so a later read is made only while the room
// left is at least the largest batch read so far: otherwise it would
// likely read a batch only to drop it. The returned chunk has the first
// read's offsets and the last one's Next. An error after the first read
// ends the data there (the client asks again from there).
func (c *conn) readPartition(topic string, part int, offset int64, maxBytes int) (fetchData, broker.Chunk, error) {
	var (
		data          fetchData
		size, largest int
		head          broker.Chunk
	)
	for next := offset; ; {
		want := min(c.s.readChunk, maxBytes-size)
		if len(data) > 0 && (want <= 0 || maxBytes-size < largest) {
			break
		}
		buf := c.borrowReadBuf()
		ch, err := c.s.b.ReadPartition(topic, part, buf, next, max(want, 1))
		if len(data) == 0 {
			head = ch
		}
		if err != nil || len(ch.Data) == 0 || (len(data) > 0 && size+len(ch.Data) > maxBytes) {
			putReadBuf(buf)
			if len(data) == 0 {
				return nil, head, err
			}
			break
		}
		c.keepReadBuf(ch.Data)
		data = append(data, ch.Data)
		size += len(ch.Data)
		largest = max(largest, largestBatch(ch.Data))
		head.Next, next = ch.Next, ch.Next
		if next >= ch.HighWatermark {
			break
		}
	}
	return data, head, nil
}

// largestBatch returns the size of the largest whole batch in data.
func largestBatch(data []byte) int {
	n := 0
	for len(data) >= clog.BatchHeaderSize {
		l := int(int32(binary.BigEndian.Uint32(data[clog.OffBatchLength:]))) + 12
		if l < clog.BatchHeaderSize || l > len(data) {
			break
		}
		n = max(n, l)
		data = data[l:]
	}
	return n
}

func fetchErrorCode(err error) int16 {
	if errors.Is(err, broker.ErrStreamNotFound) || errors.Is(err, broker.ErrInvalid) {
		return kerr.UnknownTopicOrPartition.Code
	}
	return errorCode(err)
}

// waitAny waits until one target has data, the deadline passes or the
// connection closes. It reports whether data (or a change worth reading
// again) arrived before the deadline.
func (c *conn) waitAny(deadline time.Time, targets []fetchTarget) bool {
	ctx, cancel := context.WithDeadline(c.ctx, deadline)
	defer cancel()
	stop := context.AfterFunc(c.s.polls, cancel)
	defer stop()
	var (
		wg    sync.WaitGroup
		woken sync.Once
		ready bool
	)
	for _, t := range targets {
		wg.Go(func() {
			err := c.s.b.WaitPartition(ctx, t.topic, t.part, t.offset)
			if err == nil || ctx.Err() == nil {
				woken.Do(func() { ready = true })
				cancel()
			}
		})
	}
	wg.Wait()
	return ready && c.ctx.Err() == nil && c.s.polls.Err() == nil
}

// dataSize is the record bytes a response carries (fetches), so that its
// encoding buffer is sized once.
func dataSize(resp kmsg.Response) int {
	f, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return 0
	}
	n := 0
	for _, t := range f.Topics {
		for _, p := range t.Partitions {
			n += len(p.RecordBatches) + 64
		}
	}
	return n
}
