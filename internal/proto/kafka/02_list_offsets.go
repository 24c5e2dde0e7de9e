package kafka

// ListOffsets, versions 1 to 6.
//
// Timestamp -2 is the log start offset, -1 the high watermark (also the
// last stable offset: there are no transactions), and a time in
// milliseconds the first offset whose record is at or after it, with that
// record's timestamp; when there is none, offset and timestamp are -1.
// Leader epochs are 0. Not supported: v0 (old-style offsets), -3 (max
// timestamp, v7+) and the tiered-storage specs.

import (
	"encoding/binary"

	clog "github.com/courier-mq/courier/internal/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleListOffsets(c *conn, req *kmsg.ListOffsetsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewListOffsetsResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			t.Partitions = append(t.Partitions, c.listOffset(rt.Topic, rp))
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}

func (c *conn) listOffset(topic string, rp kmsg.ListOffsetsRequestTopicPartition) kmsg.ListOffsetsResponseTopicPartition {
	p := kmsg.NewListOffsetsResponseTopicPartition()
	p.Partition = rp.Partition
	if checkTopic(topic) != "" {
		p.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return p
	}
	start, hw, err := c.s.b.PartitionOffsets(topic, int(rp.Partition))
	if err != nil {
		p.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return p
	}
	p.LeaderEpoch = 0
	switch ts := rp.Timestamp; {
	case ts == -2:
		p.Offset = start
	case ts == -1:
		p.Offset = hw
	case ts < 0:
		p.ErrorCode = kerr.InvalidRequest.Code
	default:
		off, err := c.s.b.OffsetForTime(topic, int(rp.Partition), ts)
		switch {
		case err != nil:
			p.ErrorCode = errorCode(err)
		case off < hw:
			p.Offset, p.Timestamp = off, c.recordTime(topic, int(rp.Partition), off)
		}
	}
	return p
}

// recordTime returns the timestamp of the record at offset, or -1.
func (c *conn) recordTime(topic string, part int, offset int64) int64 {
	ch, err := c.s.b.ScanPartition(topic, part, nil, offset, 1)
	if err != nil {
		return -1
	}
	ts, _ := timestampAt(ch.Data, offset)
	return ts
}

var decompressor = kgo.DefaultDecompressor()

// timestampAt finds the record at offset in stored batches.
func timestampAt(data []byte, offset int64) (int64, bool) {
	for len(data) >= clog.BatchHeaderSize {
		var b kmsg.RecordBatch
		n := int(int32(binary.BigEndian.Uint32(data[clog.OffBatchLength:]))) + 12
		if n < clog.BatchHeaderSize || n > len(data) || b.ReadFrom(data[:n]) != nil {
			return -1, false
		}
		data = data[n:]
		if b.FirstOffset+int64(b.LastOffsetDelta) < offset {
			continue
		}
		recs := b.Records
		if codec := kgo.CompressionCodecType(b.Attributes & 7); codec != kgo.CodecNone {
			var err error
			if recs, err = decompressor.Decompress(recs, codec); err != nil {
				return -1, false
			}
		}
		for len(recs) > 0 {
			l, m := binary.Varint(recs)
			if m <= 0 || l < 0 || int64(len(recs)-m) < l {
				return -1, false
			}
			var r kmsg.Record
			if r.ReadFrom(recs[:m+int(l)]) != nil {
				return -1, false
			}
			recs = recs[m+int(l):]
			if b.FirstOffset+int64(r.OffsetDelta) >= offset {
				return b.FirstTimestamp + r.TimestampDelta64, true
			}
		}
	}
	return -1, false
}
