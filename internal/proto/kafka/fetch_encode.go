package kafka

import (
	"encoding/binary"
	"net"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// inlineBatches is the most record data of one partition that is copied
// into the encoded frame; larger data is written from the buffer it was
// read into, as its own piece of the frame.
const inlineBatches = 4 << 10

// encodeFetch frames a Fetch response (v4 to 12) as pieces for one
// writev: the encoded fields, with each partition's stored batches left
// where the read put them. It encodes what kmsg's AppendTo would, byte
// for byte (fetch_encode_test.go checks it); a response with fields the
// handler never sets (aborted transactions, tagged fields) goes through
// kmsg instead.
func encodeFetch(corr int32, r *kmsg.FetchResponse) net.Buffers {
	if !plainFetch(r) {
		return net.Buffers{encodeResponse(int16(kmsg.Fetch), corr, r)}
	}
	e := fetchEncoder{flex: r.Version >= 12, v: r.Version}
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
	e.batches(p.RecordBatches)
	e.tags()
}

// batches encodes a partition's record data: its length, then the data,
// copied when small and otherwise a piece of its own.
func (e *fetchEncoder) batches(b []byte) {
	switch {
	case b == nil && e.flex:
		e.head = append(e.head, 0)
	case b == nil:
		e.head = kbin.AppendInt32(e.head, -1)
	case e.flex:
		e.head = kbin.AppendUvarint(e.head, uint32(len(b))+1)
	default:
		e.head = kbin.AppendInt32(e.head, int32(len(b)))
	}
	if len(b) <= inlineBatches {
		e.head = append(e.head, b...)
		return
	}
	e.cut()
	e.out = append(e.out, b)
	e.size += len(b)
	e.head = make([]byte, 0, 256)
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
