package log

import (
	"errors"
	"fmt"
)

var (
	// ErrCorrupt is wrapped by every error that reports damaged stored data.
	ErrCorrupt = errors.New("log: corrupt data")
	// ErrOffsetOutOfRange is returned for a read below the start offset or
	// above the high watermark.
	ErrOffsetOutOfRange = errors.New("log: offset out of range")
	// ErrClosed is returned by operations on a closed log.
	ErrClosed = errors.New("log: closed")
	// ErrFailed is wrapped by the errors of appends refused because an
	// earlier write or sync failed. The log must be closed and reopened,
	// which recovers it from what is on disk.
	ErrFailed = errors.New("log: failed, reopen to recover")
	// ErrInvalidBatch is wrapped by errors about a batch given to Append.
	ErrInvalidBatch = errors.New("log: invalid batch")
	// ErrTooLarge is returned when a batch exceeds Options.MaxBatchBytes.
	ErrTooLarge = errors.New("log: batch too large")
)

// CorruptionError says where damaged data was found. It wraps ErrCorrupt.
type CorruptionError struct {
	Segment string // file name
	Pos     int64  // byte position in the segment
	Reason  string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("log: corrupt data in segment %s at byte %d: %s", e.Segment, e.Pos, e.Reason)
}

func (e *CorruptionError) Unwrap() error { return ErrCorrupt }
