package broker

import (
	"errors"
	"fmt"
)

// Errors carry a class that front-ends map to their protocol's codes.
// Every error the broker returns wraps exactly one of these.
var (
	ErrInvalid         = errors.New("invalid argument")
	ErrStreamNotFound  = errors.New("stream not found")
	ErrGroupNotFound   = errors.New("group not found")
	ErrStreamExists    = errors.New("stream already exists")
	ErrGroupExists     = errors.New("group already exists")
	ErrSubjectCaptured = errors.New("subject already captured by another stream")
	ErrTooLarge        = errors.New("message too large")
	ErrTooManyHeaders  = errors.New("too many headers")
	ErrWrongLastOffset = errors.New("wrong last offset")
	ErrStreamFull      = errors.New("stream full")
	ErrNoResponders    = errors.New("no responders")
	ErrTimeout         = errors.New("timed out")
	ErrClosed          = errors.New("broker closed")
	ErrSlowConsumer    = errors.New("slow consumer")
	ErrAlreadySettled  = errors.New("message already settled")
	ErrMemberLeft      = errors.New("member left the group")
	ErrReservedHeader  = errors.New("reserved header")
	ErrStreamHasGroups = errors.New("stream has groups")
)

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
