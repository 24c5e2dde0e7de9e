// Package log is Courier's storage engine: the append-only log of one
// partition of a stream.
//
// # Model
//
// A log is a directory of segments. Each record gets a dense offset at
// append; records are stored in batches, and a batch is the unit of
// writing, checksumming and reading. The log start offset is the first
// readable offset; the high watermark (HW) is the offset after the last
// readable record. Under SyncAlways the HW only covers fsynced bytes, so a
// reader never sees a record that a crash could take back.
//
// # On disk
//
//	<dir>/00000000000000000000.log     segment: batches back to back
//	<dir>/00000000000000000000.index   sparse index of a sealed segment
//	<dir>/00000000000004194304.log     the next segment, named by base offset
//	<dir>/start.ckpt                   start offset, when moved past a segment base
//
// Every batch is a Kafka RecordBatch v2, so the Kafka front-end serves
// Fetch from the stored bytes without re-encoding, and compressed batches
// from Kafka producers are stored as sent:
//
//	 0  baseOffset       int64   assigned by the log (not in the CRC)
//	 8  batchLength      int32   bytes after this field
//	12  leaderEpoch      int32   (not in the CRC)
//	16  magic            int8    = 2
//	17  crc              uint32  CRC-32C of bytes 21..end
//	21  attributes       int16   bits 0-2 compression, 4 transactional, 5 control
//	23  lastOffsetDelta  int32
//	27  baseTimestamp    int64   ms
//	35  maxTimestamp     int64   ms
//	43  producerId       int64
//	51  producerEpoch    int16
//	53  baseSequence     int32
//	57  recordCount      int32
//	61  records...       each: varint length, attributes, varint
//	                     timestampDelta, varint offsetDelta, key, value,
//	                     headers (zigzag varint lengths, -1 = null)
//
// Batches cover offsets without holes: each starts where the previous one
// ended, the first at the segment's base, and the last ends where the next
// segment begins. Compaction keeps offsets, so it replaces a run of batches
// that lost every record with one empty batch (no records) over their
// offsets, as Kafka does. Recovery and reads check this contiguity, which
// also catches damage to the base offset (outside the CRC).
//
// The index file of a segment holds one 16-byte entry per IndexInterval
// bytes of batches: (offset - base uint32, position uint32, maxTimestamp
// so far int64). The same entries are the offset index (offset to
// position) and the time index (timestamp to offset): timestamps in them
// never decrease. A 48-byte trailer records the segment's size, next
// offset, record count and timestamps, a CRC-32C of the file and the magic
// "CIX1". An index is trusted only if its CRC holds and its recorded size
// equals the segment's; otherwise it is rebuilt by scanning the segment.
// The active segment has no index file while it is open: its index lives
// in memory and is written at roll and at Close.
//
// # Durability and recovery
//
// Appends go through group commit (commit.go): appenders copy their
// batch into a shared group and take offsets under a short lock; one
// writer goroutine writes the whole group and (under SyncAlways) one fsync
// makes it durable, and then wakes all of them by closing one channel. The
// writer writes the next group while an fsync runs, but a group is
// acknowledged only by an fsync that started after its write returned. A segment is fsynced
// and its index written before the next one is created, and a new file's
// name is made durable with a directory sync before anything is written to
// it, whatever the policy. So after a crash only the last segment can have
// a torn tail. Open scans it (unless its index shows a clean close) and
// truncates at the first damaged batch if no valid batch follows; damage
// followed by valid data, or damage in a sealed segment, is a
// *CorruptionError naming the segment and position, and Open fails rather
// than drop data. Reads verify the CRC of every batch they return.
//
// A failed write or fsync fails every append of its group and every later
// append (ErrFailed) until the log is closed and reopened, because after a
// failed fsync the file's state is unknown.
//
// # Concurrency
//
// Lock order: cmu (compaction) → wmu (writer) → amu (append queue) → mu
// (segment list, metas, HW). wmu is held across file I/O by the writer and
// by structural changes (roll, truncate, retention, compaction swap); amu
// and mu never are. Readers take mu shared only to find a segment and
// pin it (reference count), then read the file without locks, bounded by
// the size they saw. A segment removed by retention or replaced by
// compaction is closed when its last reader releases it.
package log
