package meta

import "errors"

var (
	// ErrNotFound is returned by Get and GetJSON for a key with no value.
	ErrNotFound = errors.New("meta: not found")
	// ErrClosed is returned by every call on a closed store.
	ErrClosed = errors.New("meta: closed")
	// ErrFailed is wrapped by the errors of calls refused because an
	// earlier commit failed. The store must be closed and reopened, which
	// recovers it from what is on disk.
	ErrFailed = errors.New("meta: failed, reopen to recover")
	// ErrInvalidKey is wrapped by errors about a malformed key: one that
	// DecodeKey cannot parse, or a prefix with no upper bound.
	ErrInvalidKey = errors.New("meta: invalid key")
	// ErrStopScan may be returned by a Scan callback to end the scan
	// early; Scan then returns nil.
	ErrStopScan = errors.New("meta: stop scan")
)
