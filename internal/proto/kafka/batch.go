package kafka

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	clog "github.com/courier-mq/courier/internal/log"
	"github.com/twmb/franz-go/pkg/kerr"
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
	if len(b) < clog.BatchHeaderSize {
		return batchInfo{}, badBatch(kerr.CorruptMessage.Code, "record batch of %d bytes is shorter than its %d-byte header", len(b), clog.BatchHeaderSize)
	}
	if m := int8(b[clog.OffMagic]); m != 2 {
		return batchInfo{}, badBatch(kerr.CorruptMessage.Code, "record batch magic %d: only 2 is supported", m)
	}
	n := int64(int32(binary.BigEndian.Uint32(b[clog.OffBatchLength:]))) + 12
	switch {
	case n < clog.BatchHeaderSize || n > int64(len(b)):
		return batchInfo{}, badBatch(kerr.CorruptMessage.Code, "record batch length %d does not match the %d bytes sent", n, len(b))
	case n < int64(len(b)):
		return batchInfo{}, badBatch(kerr.InvalidRecord.Code, "a produce request must hold exactly one record batch per partition")
	}
	if crc32.Checksum(b[clog.OffAttributes:], castagnoli) != binary.BigEndian.Uint32(b[clog.OffCRC:]) {
		return batchInfo{}, badBatch(kerr.CorruptMessage.Code, "record batch CRC mismatch")
	}
	if err := checkAttrs(int16(binary.BigEndian.Uint16(b[clog.OffAttributes:]))); err != nil {
		return batchInfo{}, err
	}
	info := batchInfo{
		producerID: int64(binary.BigEndian.Uint64(b[clog.OffProducerID:])),
		epoch:      int16(binary.BigEndian.Uint16(b[clog.OffProducerEpoch:])),
		baseSeq:    int32(binary.BigEndian.Uint32(b[clog.OffBaseSequence:])),
		count:      int32(binary.BigEndian.Uint32(b[clog.OffRecordCount:])),
	}
	last := int32(binary.BigEndian.Uint32(b[clog.OffLastDelta:]))
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
