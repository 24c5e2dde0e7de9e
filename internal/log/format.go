package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Batch header layout (Kafka RecordBatch v2). All integers big-endian.
const (
	offBaseOffset    = 0  // int64, assigned by the log, not covered by the CRC
	offBatchLength   = 8  // int32, bytes after this field
	offLeaderEpoch   = 12 // int32, not covered by the CRC
	offMagic         = 16 // int8, always 2
	offCRC           = 17 // uint32, CRC-32C of bytes [21, end)
	offAttributes    = 21 // int16
	offLastDelta     = 23 // int32
	offBaseTimestamp = 27 // int64, ms
	offMaxTimestamp  = 35 // int64, ms
	offProducerID    = 43 // int64
	offProducerEpoch = 51 // int16
	offBaseSequence  = 53 // int32
	offRecordCount   = 57 // int32

	// BatchHeaderSize is the size of a RecordBatch v2 header.
	BatchHeaderSize = 61
	// crcStart is where the checksummed part of a batch begins.
	crcStart = offAttributes
	// magicV2 is the only batch format Courier stores.
	magicV2 = 2

	attrCompressionMask = 0x07
	attrControl         = 0x20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is one record header: an ordered key and value pair.
type Header struct {
	Key   string
	Value []byte
}

// Record is one message as the log stores it. Offset is assigned by the log
// on append; Timestamp is milliseconds since the Unix epoch (0 means "now").
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	Headers   []Header
}

// IsTombstone reports whether the record deletes its key in a compacted log:
// a keyed record with an empty value.
func (r *Record) IsTombstone() bool { return r.Key != nil && len(r.Value) == 0 }

// batchHeader is the decoded fixed part of a stored batch.
type batchHeader struct {
	BaseOffset    int64
	Length        int32 // whole batch, header included
	Attributes    int16
	LastDelta     int32
	BaseTimestamp int64
	MaxTimestamp  int64
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	Count         int32
}

func (h *batchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastDelta) }
func (h *batchHeader) NextOffset() int64 { return h.LastOffset() + 1 }
func (h *batchHeader) Compression() int8 { return int8(h.Attributes & attrCompressionMask) }

// errShort is returned when fewer bytes remain than a batch needs.
var errShort = errors.New("short batch")

// parseHeader decodes the fixed header at the start of b and checks its
// framing (magic, length, delta and count). It does not check the CRC.
func parseHeader(b []byte) (batchHeader, error) {
	var h batchHeader
	if len(b) < BatchHeaderSize {
		return h, errShort
	}
	be := binary.BigEndian
	h.BaseOffset = int64(be.Uint64(b[offBaseOffset:]))
	h.Length = int32(be.Uint32(b[offBatchLength:])) + 12
	if b[offMagic] != magicV2 {
		return h, fmt.Errorf("magic %d, want 2", b[offMagic])
	}
	if h.Length < BatchHeaderSize {
		return h, fmt.Errorf("batch length %d below the header size", h.Length)
	}
	h.Attributes = int16(be.Uint16(b[offAttributes:]))
	h.LastDelta = int32(be.Uint32(b[offLastDelta:]))
	h.BaseTimestamp = int64(be.Uint64(b[offBaseTimestamp:]))
	h.MaxTimestamp = int64(be.Uint64(b[offMaxTimestamp:]))
	h.ProducerID = int64(be.Uint64(b[offProducerID:]))
	h.ProducerEpoch = int16(be.Uint16(b[offProducerEpoch:]))
	h.BaseSequence = int32(be.Uint32(b[offBaseSequence:]))
	h.Count = int32(be.Uint32(b[offRecordCount:]))
	if h.LastDelta < 0 || h.Count < 0 || (h.Count > 0 && h.Count-1 > h.LastDelta) {
		return h, fmt.Errorf("record count %d does not fit last offset delta %d", h.Count, h.LastDelta)
	}
	return h, nil
}

// checkCRC verifies the CRC-32C of a whole batch.
func checkCRC(batch []byte) bool {
	want := binary.BigEndian.Uint32(batch[offCRC:])
	return crc32.Checksum(batch[crcStart:], castagnoli) == want
}

func setCRC(batch []byte) {
	binary.BigEndian.PutUint32(batch[offCRC:], crc32.Checksum(batch[crcStart:], castagnoli))
}

// setBaseOffset rewrites the base offset; the CRC does not cover it.
func setBaseOffset(batch []byte, base int64) {
	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(base))
}

// BatchBaseOffset returns the base offset field of a batch (at least
// BatchHeaderSize bytes).
func BatchBaseOffset(b []byte) int64 { return int64(binary.BigEndian.Uint64(b[offBaseOffset:])) }

// batchMeta is what the log needs to know of a batch it writes.
type batchMeta struct {
	count  int32 // records in the batch
	last   int32 // last offset delta
	maxTS  int64
	baseTS int64
}

// ValidateBatch checks a RecordBatch v2 received from outside (for example a
// Kafka producer): framing, CRC, and that it is not a control batch. The
// base offset is ignored; the log assigns it.
func ValidateBatch(b []byte) error {
	h, err := parseHeader(b)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidBatch, err)
	}
	if int(h.Length) != len(b) {
		return fmt.Errorf("%w: length field says %d bytes, have %d", ErrInvalidBatch, h.Length, len(b))
	}
	if !checkCRC(b) {
		return fmt.Errorf("%w: CRC mismatch", ErrInvalidBatch)
	}
	if h.Attributes&attrControl != 0 {
		return fmt.Errorf("%w: control batch", ErrInvalidBatch)
	}
	if h.Compression() > 4 {
		return fmt.Errorf("%w: unknown compression %d", ErrInvalidBatch, h.Compression())
	}
	if h.Count == 0 {
		return fmt.Errorf("%w: no records", ErrInvalidBatch)
	}
	return nil
}
