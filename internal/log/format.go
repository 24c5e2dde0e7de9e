package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Batch header layout (Kafka RecordBatch v2). All integers big-endian.
// Exported for front-ends that read batch headers (the Kafka front-end).
const (
	OffBaseOffset    = 0  // int64, assigned by the log, not covered by the CRC
	OffBatchLength   = 8  // int32, bytes after this field
	OffLeaderEpoch   = 12 // int32, not covered by the CRC
	OffMagic         = 16 // int8, always 2
	OffCRC           = 17 // uint32, CRC-32C of bytes [21, end)
	OffAttributes    = 21 // int16
	OffLastDelta     = 23 // int32
	OffBaseTimestamp = 27 // int64, ms
	OffMaxTimestamp  = 35 // int64, ms
	OffProducerID    = 43 // int64
	OffProducerEpoch = 51 // int16
	OffBaseSequence  = 53 // int32
	OffRecordCount   = 57 // int32

	// BatchHeaderSize is the size of a RecordBatch v2 header.
	BatchHeaderSize = 61
	// crcStart is where the checksummed part of a batch begins.
	crcStart = OffAttributes
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
	h.BaseOffset = int64(be.Uint64(b[OffBaseOffset:]))
	h.Length = int32(be.Uint32(b[OffBatchLength:])) + 12
	if b[OffMagic] != magicV2 {
		return h, fmt.Errorf("magic %d, want 2", b[OffMagic])
	}
	if h.Length < BatchHeaderSize {
		return h, fmt.Errorf("batch length %d below the header size", h.Length)
	}
	h.Attributes = int16(be.Uint16(b[OffAttributes:]))
	h.LastDelta = int32(be.Uint32(b[OffLastDelta:]))
	h.BaseTimestamp = int64(be.Uint64(b[OffBaseTimestamp:]))
	h.MaxTimestamp = int64(be.Uint64(b[OffMaxTimestamp:]))
	h.ProducerID = int64(be.Uint64(b[OffProducerID:]))
	h.ProducerEpoch = int16(be.Uint16(b[OffProducerEpoch:]))
	h.BaseSequence = int32(be.Uint32(b[OffBaseSequence:]))
	h.Count = int32(be.Uint32(b[OffRecordCount:]))
	if h.LastDelta < 0 || h.Count < 0 || (h.Count > 0 && h.Count-1 > h.LastDelta) {
		return h, fmt.Errorf("record count %d does not fit last offset delta %d", h.Count, h.LastDelta)
	}
	return h, nil
}

// checkCRC verifies the CRC-32C of a whole batch.
func checkCRC(batch []byte) bool {
	want := binary.BigEndian.Uint32(batch[OffCRC:])
	return crc32.Checksum(batch[crcStart:], castagnoli) == want
}

func setCRC(batch []byte) {
	binary.BigEndian.PutUint32(batch[OffCRC:], crc32.Checksum(batch[crcStart:], castagnoli))
}

// setBaseOffset rewrites the base offset; the CRC does not cover it.
func setBaseOffset(batch []byte, base int64) {
	binary.BigEndian.PutUint64(batch[OffBaseOffset:], uint64(base))
}

// BatchBaseOffset returns the base offset field of a batch (at least
// BatchHeaderSize bytes).
func BatchBaseOffset(b []byte) int64 { return int64(binary.BigEndian.Uint64(b[OffBaseOffset:])) }

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
