package kafka

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kerr"
)

// RecordBatch v2 header layout (see internal/log/doc.go).
const (
	batchHeaderSize = 61
	offLength       = 8
	offMagic        = 16
	offCRC          = 17
	offAttrs        = 21
	offLastDelta    = 23
	offBaseTime     = 27
	offProducerID   = 43
	offEpoch        = 51
	offBaseSeq      = 53
	offCount        = 57
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batchInfo is what Produce needs from a batch header.
type batchInfo struct {
	producerID int64
	epoch      int16
	baseSeq    int32
	count      int32
}

// batchError is a produce error for one partition: a Kafka code and why.
type batchError struct {
	code int16
	msg  string
}

func (e *batchError) Error() string { return e.msg }

func badBatch(code int16, format string, args ...any) *batchError {
	return &batchError{code: code, msg: fmt.Sprintf(format, args...)}
}

// checkBatch validates a produced RecordBatch v2 as Kafka's LogValidator
// does for a v3+ produce request: exactly one batch, magic 2, its CRC,
// a supported codec, no control or transactional batch, CreateTime, and
// offset deltas that match the record count. The records themselves stay
// compressed and are not read.
func checkBatch(b []byte) (batchInfo, *batchError) {
	if len(b) < batchHeaderSize {
		return batchInfo{}, badBatch(kerr.CorruptMessage.Code, "record batch of %d bytes is shorter than its %d-byte header", len(b), batchHeaderSize)
	}
	if m := int8(b[offMagic]); m != 2 {
		return batchInfo{}, badBatch(kerr.CorruptMessage.Code, "record batch magic %d: only 2 is supported", m)
	}
	n := int64(int32(binary.BigEndian.Uint32(b[offLength:]))) + 12
	switch {
	case n < batchHeaderSize || n > int64(len(b)):
		return batchInfo{}, badBatch(kerr.CorruptMessage.Code, "record batch length %d does not match the %d bytes sent", n, len(b))
	case n < int64(len(b)):
		return batchInfo{}, badBatch(kerr.InvalidRecord.Code, "a produce request must hold exactly one record batch per partition")
	}
	if crc32.Checksum(b[offAttrs:], castagnoli) != binary.BigEndian.Uint32(b[offCRC:]) {
		return batchInfo{}, badBatch(kerr.CorruptMessage.Code, "record batch CRC mismatch")
	}
	if err := checkAttrs(int16(binary.BigEndian.Uint16(b[offAttrs:]))); err != nil {
		return batchInfo{}, err
	}
	info := batchInfo{
		producerID: int64(binary.BigEndian.Uint64(b[offProducerID:])),
		epoch:      int16(binary.BigEndian.Uint16(b[offEpoch:])),
		baseSeq:    int32(binary.BigEndian.Uint32(b[offBaseSeq:])),
		count:      int32(binary.BigEndian.Uint32(b[offCount:])),
	}
	last := int32(binary.BigEndian.Uint32(b[offLastDelta:]))
	if info.count < 1 || last != info.count-1 {
		return batchInfo{}, badBatch(kerr.InvalidRecord.Code, "record batch has %d records and last offset delta %d", info.count, last)
	}
	return info, nil
}

func checkAttrs(attrs int16) *batchError {
	switch {
	case attrs&0x7 > 4:
		return badBatch(kerr.UnsupportedCompressionType.Code, "compression codec %d is not supported", attrs&0x7)
	case attrs&0x20 != 0:
		return badBatch(kerr.InvalidRecord.Code, "clients may not produce control batches")
	case attrs&0x10 != 0:
		return badBatch(kerr.InvalidRecord.Code, "transactional batches are not supported")
	case attrs&0x08 != 0:
		return badBatch(kerr.InvalidTimestamp.Code, "producers may not set LogAppendTime")
	}
	return nil
}
