package broker

import (
	"errors"
	"fmt"

	"github.com/courier-mq/courier/internal/log"
)

// Errors carry a class that front-ends map to their protocol's codes.
// Every error the broker returns wraps exactly one of these.
var (
	ErrInvalid          = errors.New("invalid argument")
	ErrStreamNotFound   = errors.New("stream not found")
	ErrGroupNotFound    = errors.New("group not found")
	ErrStreamExists     = errors.New("stream already exists")
	ErrGroupExists      = errors.New("group already exists")
	ErrSubjectCaptured  = errors.New("subject already captured by another stream")
	ErrTooLarge         = errors.New("message too large")
	ErrTooManyHeaders   = errors.New("too many headers")
	ErrWrongLastOffset  = errors.New("wrong last offset")
	ErrStreamFull       = errors.New("stream full")
	ErrNoResponders     = errors.New("no responders")
	ErrTimeout          = errors.New("timed out")
	ErrClosed           = errors.New("broker closed")
	ErrSlowConsumer     = errors.New("slow consumer")
	ErrAlreadySettled   = errors.New("message already settled")
	ErrMemberLeft       = errors.New("member left the group")
	ErrReservedHeader   = errors.New("reserved header")
	ErrStreamHasGroups  = errors.New("stream has groups")
	ErrOffsetOutOfRange = errors.New("offset out of range")
	ErrStorage          = errors.New("storage failed")
)

// logError gives an error from a partition log its broker class.
func logError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, log.ErrInvalidBatch), errors.Is(err, log.ErrCorrupt):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case errors.Is(err, log.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, log.ErrOffsetOutOfRange):
		return fmt.Errorf("%w: %w", ErrOffsetOutOfRange, err)
	case errors.Is(err, log.ErrClosed):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, log.ErrFailed):
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	return err // context errors and the like keep their own identity
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// WrongLastOffsetError says what an expectation found instead.
type WrongLastOffsetError struct {
	Subject  string // "" for the partition's last offset
	Expected int64
	Actual   int64 // -1 when there is none
}

func (e *WrongLastOffsetError) Error() string {
	what := "partition"
	if e.Subject != "" {
		what = fmt.Sprintf("subject %q", e.Subject)
	}
	return fmt.Sprintf("wrong last offset: expected %s at %d, it is at %d", what, e.Expected, e.Actual)
}

func (e *WrongLastOffsetError) Unwrap() error { return ErrWrongLastOffset }
