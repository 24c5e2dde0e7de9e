package kafka

import (
	"bytes"
	"encoding/binary"
	"net"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// inlineBatches is the most record data of one partition that is copied
// into the encoded frame; larger data is written from the buffer it was
// read into, as its own piece of the frame.
const inlineBatches = 4 << 10

// fetchData is one partition's record data as the pieces it was read in.
type fetchData [][]byte

func (d fetchData) size() int {
	n := 0
	for _, b := range d {
		n += len(b)
	}
	return n
}

// first is the partition's RecordBatches: nil without data, else the
// first piece (encodeFetch writes all of them).
func (d fetchData) first() []byte {
	if len(d) == 0 {
		return nil
	}
	return d[0]
}

// encodeFetch frames a Fetch response (v4 to 12) as pieces for one
// writev: the encoded fields, with each partition's stored batches left
// where the reads put them. data, when not nil, has each partition's
// record data (in response order, topic by topic) and replaces its
// RecordBatches; otherwise RecordBatches is the data. It encodes what
// kmsg's AppendTo would of the response with that data, byte for byte
// (fetch_encode_test.go checks it); a response with fields the handler
// never sets (aborted transactions, tagged fields) goes through kmsg
// instead.
func encodeFetch(corr int32, r *kmsg.FetchResponse, data []fetchData) net.Buffers {
	if !plainFetch(r) {
		joinFetchData(r, data)
		return net.Buffers{encodeResponse(int16(kmsg.Fetch), corr, r)}
	}
	e := fetchEncoder{flex: r.Version >= 12, v: r.Version, data: data}
	e.head = make([]byte, 8, 512)
	binary.BigEndian.PutUint32(e.head[4:], uint32(corr))
	if e.flex {
		e.head = append(e.head, 0) // response header tags
	}
	e.head = kbin.AppendInt32(e.head, r.ThrottleMillis)
	if e.v >= 7 {
		e.head = kbin.AppendInt16(e.head, r.ErrorCode)
		e.head = kbin.AppendInt32(e.head, r.SessionID)
	}
	e.arrayLen(len(r.Topics))
	for i := range r.Topics {
		e.topic(&r.Topics[i])
	}
	e.tags()
	e.cut()
	binary.BigEndian.PutUint32(e.out[0], uint32(e.size-4))
	return e.out
}

// plainFetch reports whether encodeFetch can encode r itself.
func plainFetch(r *kmsg.FetchResponse) bool {
	if r.Version < 4 || r.Version > 12 || r.UnknownTags.Len() > 0 || len(r.Brokers) > 0 {
		return false
	}
	for _, t := range r.Topics {
		if t.UnknownTags.Len() > 0 {
			return false
		}
		for _, p := range t.Partitions {
			if p.AbortedTransactions != nil || p.UnknownTags.Len() > 0 || hasFetchTags(&p) {
				return false
			}
		}
	}
	return true
}

// hasFetchTags reports a partition's tagged fields that kmsg would encode.
func hasFetchTags(p *kmsg.FetchResponseTopicPartition) bool {
	d, l, s := &p.DivergingEpoch, &p.CurrentLeader, &p.SnapshotID
	return d.Epoch != -1 || d.EndOffset != -1 || d.UnknownTags.Len() > 0 ||
		l.LeaderID != -1 || l.LeaderEpoch != -1 || l.UnknownTags.Len() > 0 ||
		s.EndOffset != -1 || s.Epoch != -1 || s.UnknownTags.Len() > 0
}

// fetchEncoder builds the pieces: head is the piece being encoded, out the
// finished ones, size the bytes of both.
type fetchEncoder struct {
	flex bool
	v    int16
	head []byte
	out  net.Buffers
	size int
	data []fetchData // see encodeFetch
	k    int         // the partition being encoded, in response order
}

func (e *fetchEncoder) topic(t *kmsg.FetchResponseTopic) {
	if e.flex {
		e.head = kbin.AppendCompactString(e.head, t.Topic)
	} else {
		e.head = kbin.AppendString(e.head, t.Topic)
	}
	e.arrayLen(len(t.Partitions))
	for i := range t.Partitions {
		e.partition(&t.Partitions[i])
	}
	e.tags()
}

func (e *fetchEncoder) partition(p *kmsg.FetchResponseTopicPartition) {
	e.head = kbin.AppendInt32(e.head, p.Partition)
	e.head = kbin.AppendInt16(e.head, p.ErrorCode)
	e.head = kbin.AppendInt64(e.head, p.HighWatermark)
	e.head = kbin.AppendInt64(e.head, p.LastStableOffset)
	if e.v >= 5 {
		e.head = kbin.AppendInt64(e.head, p.LogStartOffset)
	}
	if e.flex { // no aborted transactions (plainFetch)
		e.head = kbin.AppendCompactNullableArrayLen(e.head, 0, true)
	} else {
		e.head = kbin.AppendNullableArrayLen(e.head, 0, true)
	}
	if e.v >= 11 {
		e.head = kbin.AppendInt32(e.head, p.PreferredReadReplica)
	}
	d := fetchData{p.RecordBatches}
	if p.RecordBatches == nil {
		d = nil
	}
	if e.data != nil {
		d = e.data[e.k]
	}
	e.k++
	e.batches(d)
	e.tags()
}

// batches encodes a partition's record data (null without pieces): its
// length, then each piece, copied when small and otherwise a piece of the
// frame of its own.
func (e *fetchEncoder) batches(d fetchData) {
	n := d.size()
	switch {
	case d == nil && e.flex:
		e.head = append(e.head, 0)
	case d == nil:
		e.head = kbin.AppendInt32(e.head, -1)
	case e.flex:
		e.head = kbin.AppendUvarint(e.head, uint32(n)+1)
	default:
		e.head = kbin.AppendInt32(e.head, int32(n))
	}
	for _, b := range d {
		if len(b) <= inlineBatches {
			e.head = append(e.head, b...)
			continue
		}
		e.cut()
		e.out = append(e.out, b)
		e.size += len(b)
		e.head = make([]byte, 0, 256)
	}
}

// joinFetchData sets each partition's RecordBatches to all of its data,
// copied into one slice when it has several pieces (for kmsg's encoding).
func joinFetchData(r *kmsg.FetchResponse, data []fetchData) {
	if data == nil {
		return
	}
	k := 0
	for i := range r.Topics {
		for j := range r.Topics[i].Partitions {
			if d := data[k]; len(d) > 1 {
				r.Topics[i].Partitions[j].RecordBatches = bytes.Join(d, nil)
			}
			k++
		}
	}
}

// cut ends the current piece.
func (e *fetchEncoder) cut() {
	if len(e.head) == 0 {
		return
	}
	e.out = append(e.out, e.head)
	e.size += len(e.head)
	e.head = nil
}

func (e *fetchEncoder) arrayLen(n int) {
	if e.flex {
		e.head = kbin.AppendCompactArrayLen(e.head, n)
	} else {
		e.head = kbin.AppendArrayLen(e.head, n)
	}
}

// tags writes an empty tag section in flexible versions.
func (e *fetchEncoder) tags() {
	if e.flex {
		e.head = append(e.head, 0)
	}
}
