package log

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// EncodeBatch encodes records as one uncompressed RecordBatch v2 with base
// offset 0 (the log sets the real one). Records with a zero Timestamp get
// now. Offsets in recs are ignored unless keepDeltas is set, in which case
// each record keeps recs[i].Offset-base as its delta and lastDelta is kept
// (compaction and truncation rewrite batches this way).
func EncodeBatch(dst []byte, recs []Record, now int64) []byte {
	return encodeBatch(dst, recs, now, batchHeader{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, false)
}

func encodeBatch(dst []byte, recs []Record, now int64, tmpl batchHeader, keepDeltas bool) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, BatchHeaderSize)...)
	baseTS, maxTS := tmpl.BaseTimestamp, int64(0)
	if !keepDeltas {
		baseTS = stamp(recs[0].Timestamp, now)
	}
	lastDelta := int32(len(recs) - 1)
	if keepDeltas {
		lastDelta = tmpl.LastDelta
	}
	for i := range recs {
		ts := stamp(recs[i].Timestamp, now)
		if ts > maxTS {
			maxTS = ts
		}
		delta := int64(i)
		if keepDeltas {
			delta = recs[i].Offset - tmpl.BaseOffset
		}
		dst = appendRecord(dst, &recs[i], ts-baseTS, delta)
	}
	b := dst[start:]
	be := binary.BigEndian
	be.PutUint64(b[OffBaseOffset:], uint64(tmpl.BaseOffset))
	be.PutUint32(b[OffBatchLength:], uint32(len(b)-12))
	be.PutUint32(b[OffLeaderEpoch:], 0)
	b[OffMagic] = magicV2
	be.PutUint16(b[OffAttributes:], 0)
	be.PutUint32(b[OffLastDelta:], uint32(lastDelta))
	be.PutUint64(b[OffBaseTimestamp:], uint64(baseTS))
	be.PutUint64(b[OffMaxTimestamp:], uint64(maxTS))
	be.PutUint64(b[OffProducerID:], uint64(tmpl.ProducerID))
	be.PutUint16(b[OffProducerEpoch:], uint16(tmpl.ProducerEpoch))
	be.PutUint32(b[OffBaseSequence:], uint32(tmpl.BaseSequence))
	be.PutUint32(b[OffRecordCount:], uint32(len(recs)))
	setCRC(b)
	return dst
}

// appendEmptyBatch appends a batch with no records that keeps h's offset
// range, timestamps and producer fields.
func appendEmptyBatch(dst []byte, h batchHeader) []byte {
	start := len(dst)
	dst = encodeBatch(dst, nil, 0, h, true)
	binary.BigEndian.PutUint64(dst[start+OffMaxTimestamp:], uint64(h.MaxTimestamp))
	setCRC(dst[start:])
	return dst
}

func stamp(ts, now int64) int64 {
	if ts == 0 {
		return now
	}
	return ts
}

// batchSize is the length of EncodeBatch(nil, recs, now).
func batchSize(recs []Record, now int64) int {
	n := BatchHeaderSize
	baseTS := stamp(recs[0].Timestamp, now)
	for i := range recs {
		size := recordSize(&recs[i], stamp(recs[i].Timestamp, now)-baseTS, int64(i))
		n += varintLen(int64(size)) + size
	}
	return n
}

// recordSize is the length of a record's body (after its length).
func recordSize(r *Record, tsDelta, offDelta int64) int {
	size := 1 + varintLen(tsDelta) + varintLen(offDelta) + bytesLen(r.Key) + bytesLen(r.Value) +
		varintLen(int64(len(r.Headers)))
	for _, h := range r.Headers {
		size += varintLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	return size
}

func appendRecord(dst []byte, r *Record, tsDelta, offDelta int64) []byte {
	size := recordSize(r, tsDelta, offDelta)
	dst = binary.AppendVarint(dst, int64(size))
	dst = append(dst, 0)
	dst = binary.AppendVarint(dst, tsDelta)
	dst = binary.AppendVarint(dst, offDelta)
	dst = appendBytes(dst, r.Key)
	dst = appendBytes(dst, r.Value)
	dst = binary.AppendVarint(dst, int64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendBytes(dst, h.Value)
	}
	return dst
}

func varintLen(v int64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutVarint(buf[:], v)
}

func bytesLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

var decompressor = kgo.DefaultDecompressor()

// DecodeRecords calls fn for each record of each whole batch in data, in
// order, skipping records below from. Records alias data (or a decompressed
// copy) and must be copied to be kept. fn returns false to stop. A batch cut
// short at the end of data is ignored.
func DecodeRecords(data []byte, from int64, fn func(Record) bool) error {
	return decodeRecords(data, from, false, fn)
}

// DecodeRecordsSharing is DecodeRecords but for each record's Headers
// slice, which is reused for the next record: fn copies the Header
// values it keeps (their keys and values may be kept as DecodeRecords
// says). It saves an allocation per record with headers.
func DecodeRecordsSharing(data []byte, from int64, fn func(Record) bool) error {
	return decodeRecords(data, from, true, fn)
}

func decodeRecords(data []byte, from int64, share bool, fn func(Record) bool) error {
	var hdrs []Header // shared headers, with share
	if share {
		hdrs = make([]Header, 0, 4)
	}
	for len(data) >= BatchHeaderSize {
		h, err := parseHeader(data)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if int(h.Length) > len(data) {
			return nil
		}
		more, err := decodeBatch(data[:h.Length], h, from, hdrs, fn)
		if err != nil || !more {
			return err
		}
		data = data[h.Length:]
	}
	return nil
}

func decodeBatch(b []byte, h batchHeader, from int64, hdrs []Header, fn func(Record) bool) (bool, error) {
	recs := b[BatchHeaderSize:]
	if c := h.Compression(); c != 0 {
		var err error
		recs, err = decompressor.Decompress(recs, kgo.CompressionCodecType(c))
		if err != nil {
			return false, fmt.Errorf("%w: batch at offset %d: %v", ErrCorrupt, h.BaseOffset, err)
		}
	}
	d := decoder{b: recs, hdrs: hdrs}
	for i := int32(0); i < h.Count; i++ {
		r, err := d.record(&h)
		if err != nil {
			return false, fmt.Errorf("%w: batch at offset %d, record %d: %v", ErrCorrupt, h.BaseOffset, i, err)
		}
		if r.Offset >= from && !fn(r) {
			return false, nil
		}
	}
	return true, nil
}
