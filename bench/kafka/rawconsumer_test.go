package kafka

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawConsumer is the least a Kafka consumer can do: Fetch requests
// (kmsg-encoded, v12) over one TCP connection, up to depth in flight,
// each response read into one reused buffer and parsed down to the
// partition's record data, whose batch headers are walked (base offset,
// length, last offset delta) without decoding a record or checking a CRC.
// It measures what the broker serves when the client costs next to
// nothing.
//
// One partition gives no natural pipelining (the next offset is known
// only from the last response), so fetches past the first are
// speculative: request k+1 asks for the offset of request k plus the
// records the last useful fetch returned (step). The broker answers with
// the batch holding the offset asked for, so a response is useful if its
// first batch starts at or before the first offset not yet received
// (have) and it ends after it; otherwise it is wasted: a duplicate, or a
// gap after a short response. After a gap, the requests in flight are
// left to arrive (they may still be useful) and the next request asks for
// have. The topic's batches are each about one fetch long, so most
// speculative fetches are useful; wasted/fetch says how many were not.
type rawConsumer struct {
	nc    net.Conn
	r     *bufio.Reader
	topic string
	depth int
	fetch int32 // partition max bytes

	fmt   *kmsg.RequestFormatter
	req   kmsg.FetchRequest
	out   []byte
	in    []byte
	corr  int32
	queue []int64 // offsets of the requests in flight, oldest first
	stale int     // of those, the oldest ones issued before the last resync
	gap   bool    // a response skipped have: ask for it next

	have, issued, step, hw int64
	wasted, fetches, bytes int64
}

func dialRawConsumer(addr, topic string, depth int, fetch int32) (*rawConsumer, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &rawConsumer{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), topic: topic, depth: depth, fetch: fetch,
		fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID("rawconsumer")), hw: -1}
	c.req = kmsg.NewFetchRequest()
	c.req.Version = 12
	c.req.ReplicaID = -1
	c.req.MaxWaitMillis = 500
	c.req.MinBytes = 1
	c.req.MaxBytes = 50 << 20
	c.req.SessionEpoch = -1
	t := kmsg.NewFetchRequestTopic()
	t.Topic = topic
	t.Partitions = []kmsg.FetchRequestTopicPartition{kmsg.NewFetchRequestTopicPartition()}
	t.Partitions[0].PartitionMaxBytes = fetch
	c.req.Topics = []kmsg.FetchRequestTopic{t}
	return c, nil
}

func (c *rawConsumer) Close() error { return c.nc.Close() }

// consume reads partition 0 from offset 0 until end (the high watermark
// it expects) and returns when every offset below end has arrived.
func (c *rawConsumer) consume(end int64) error {
	c.have, c.issued, c.step, c.hw = 0, 0, 0, -1
	c.nc.SetDeadline(time.Now().Add(5 * time.Minute))
	for c.have < end {
		if err := c.send(); err != nil {
			return err
		}
		if err := c.receive(); err != nil {
			return fmt.Errorf("at offset %d of %d: %w", c.have, end, err)
		}
	}
	for len(c.queue) > 0 { // drain what is still in flight
		if err := c.receive(); err != nil {
			return err
		}
	}
	return nil
}

// send issues requests until depth are in flight (one until the first
// response has told the high watermark and the step).
func (c *rawConsumer) send() error {
	if c.gap || len(c.queue) == 0 {
		c.issued, c.stale, c.gap = c.have, len(c.queue), false // resynchronise
	}
	limit := c.depth
	if c.step == 0 {
		limit = 1
	}
	c.out = c.out[:0]
	for len(c.queue) < limit && (c.hw < 0 || c.issued < c.hw) {
		c.req.Topics[0].Partitions[0].FetchOffset = c.issued
		c.corr++
		// AppendRequest sizes the frame at dst[0:4]: one frame per call.
		at := len(c.out)
		c.out = append(c.out[:at], c.fmt.AppendRequest(c.out[at:], &c.req, c.corr)...)
		c.queue = append(c.queue, c.issued)
		c.issued += max(c.step, 1)
		if c.hw < 0 {
			break
		}
	}
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.out)
	return err
}

// receive reads the oldest request's response and accounts its batches.
func (c *rawConsumer) receive() error {
	off := c.queue[0]
	c.queue = c.queue[1:]
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if n < 4 || n > 64<<20 {
		return fmt.Errorf("response of %d bytes", n)
	}
	if cap(c.in) < n {
		c.in = make([]byte, n)
	}
	body := c.in[:n]
	if _, err := io.ReadFull(c.r, body); err != nil {
		return err
	}
	c.fetches++
	c.bytes += int64(n) + 4
	data, err := c.partitionData(body)
	if err != nil {
		return err
	}
	first, next, err := batchesSpan(data, off)
	if err != nil {
		return err
	}
	c.account(first, next)
	return nil
}

// partitionData checks a response's correlation id and error codes and
// returns partition 0's record data (kmsg parses the response around it;
// the record bytes are not copied or decoded).
func (c *rawConsumer) partitionData(body []byte) ([]byte, error) {
	want := c.corr - int32(len(c.queue))
	if got := int32(binary.BigEndian.Uint32(body)); got != want {
		return nil, fmt.Errorf("correlation id %d, want %d", got, want)
	}
	resp := kmsg.NewFetchResponse()
	resp.Version = c.req.Version
	if err := resp.ReadFrom(body[5:]); err != nil { // id, then the header's tags
		return nil, fmt.Errorf("parse fetch response: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("response has %d topics, want one with one partition", len(resp.Topics))
	}
	p := &resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return nil, err
	}
	c.hw = p.HighWatermark
	return p.RecordBatches, nil
}

// batchesSpan walks the batch headers of data, fetched at offset off, and
// returns the first batch's base offset and the offset after the last
// whole batch. The first batch must hold off, and each must start where
// the previous ended.
func batchesSpan(data []byte, off int64) (first, next int64, err error) {
	const hdrSize = 61
	first, next = -1, -1
	for len(data) >= hdrSize {
		base := int64(binary.BigEndian.Uint64(data))
		size := int(int32(binary.BigEndian.Uint32(data[8:]))) + 12
		last := base + int64(int32(binary.BigEndian.Uint32(data[23:])))
		if size < hdrSize {
			return 0, 0, fmt.Errorf("batch at offset %d of %d bytes", base, size)
		}
		if size > len(data) { // a partial batch at the end (max bytes)
			break
		}
		if next < 0 && (base > off || last < off) || next >= 0 && base != next {
			return 0, 0, fmt.Errorf("batch [%d, %d] out of place (fetch at %d, expected %d)", base, last, off, next)
		}
		if first < 0 {
			first = base
		}
		next = last + 1
		data = data[size:]
	}
	if next < 0 {
		return 0, 0, fmt.Errorf("no whole batch in a fetch at %d", off)
	}
	return first, next, nil
}

// account records a response for offsets [off, next).
// account records a response holding offsets [first, next).
func (c *rawConsumer) account(first, next int64) {
	stale := c.stale > 0
	if stale {
		c.stale--
	}
	switch {
	case first <= c.have && next > c.have:
		c.step, c.have = next-first, next
	case first > c.have:
		c.gap = c.gap || !stale
		c.wasted++
	default:
		c.wasted++
	}
}
