package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	connect "connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connectproto"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Error is every error the server returns, and the client's own
// transport failures (Code "unavailable").
//
// Code is the Connect code ("not_found", "invalid_argument", ...), Reason
// the stable machine-readable reason ("stream_not_found", ...) the server
// attaches, Message the human part. LastOffset is set for
// "wrong_last_offset": the offset the server found.
//
// Compare with errors.Is against the sentinels (ErrStreamNotFound, ...),
// which match by Reason; ErrUnavailable matches every error whose Code is
// "unavailable".
type Error struct {
	Code       string
	Reason     string
	Message    string
	LastOffset int64

	matchCode bool  // a sentinel that matches by Code
	cause     error // the underlying error, local only
}

// Error renders "reason: message", or the message alone when it already
// starts with the reason.
func (e *Error) Error() string {
	switch {
	case e.Reason == "":
		return e.Message
	case e.Message == "":
		return e.Reason
	case strings.HasPrefix(e.Message, e.Reason):
		return e.Message
	}
	return e.Reason + ": " + e.Message
}

// Is matches a sentinel by Reason (or by Code for ErrUnavailable).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t.matchCode {
		return e.Code == t.Code && serverAway[e.Reason]
	}
	return t.Reason != "" && e.Reason == t.Reason
}

// serverAway holds the reasons of "unavailable" errors that mean the
// server is not there (as opposed to, say, no_responders).
var serverAway = map[string]bool{"": true, "unavailable": true, "closed": true, "shutting_down": true}

// Unwrap returns the local cause (a network error, a context error).
func (e *Error) Unwrap() error { return e.cause }

func sentinel(code, reason string) *Error {
	return &Error{Code: code, Reason: reason}
}

// Sentinels, compared by Reason through errors.Is.
var (
	ErrStreamNotFound   = sentinel("not_found", "stream_not_found")
	ErrGroupNotFound    = sentinel("not_found", "group_not_found")
	ErrStreamExists     = sentinel("already_exists", "stream_exists")
	ErrGroupExists      = sentinel("already_exists", "group_exists")
	ErrSubjectCaptured  = sentinel("already_exists", "subject_captured")
	ErrStreamHasGroups  = sentinel("failed_precondition", "stream_has_groups")
	ErrInvalid          = sentinel("invalid_argument", "invalid_argument")
	ErrTooLarge         = sentinel("invalid_argument", "message_too_large")
	ErrTooManyHeaders   = sentinel("invalid_argument", "too_many_headers")
	ErrReservedHeader   = sentinel("invalid_argument", "reserved_header")
	ErrWrongLastOffset  = sentinel("failed_precondition", "wrong_last_offset")
	ErrStreamFull       = sentinel("resource_exhausted", "stream_full")
	ErrOffsetOutOfRange = sentinel("out_of_range", "offset_out_of_range")
	ErrNoResponders     = sentinel("unavailable", "no_responders")
	ErrTimeout          = sentinel("deadline_exceeded", "timeout")
	ErrAlreadySettled   = sentinel("failed_precondition", "already_settled")
	ErrUnknownDelivery  = sentinel("failed_precondition", "unknown_delivery")
	ErrSlowConsumer     = sentinel("resource_exhausted", "slow_consumer")
	ErrMemberLeft       = sentinel("aborted", "member_left")
	ErrShuttingDown     = sentinel("unavailable", "shutting_down")
	ErrRequestTooLarge  = sentinel("resource_exhausted", "request_too_large")
	ErrInternal         = sentinel("internal", "internal")

	// ErrStaleDelivery is returned when settling a delivery whose
	// connection to the server ended: the group gives it again (to this
	// consumer once it has rejoined, or to another), so the failed settle
	// is harmless.
	ErrStaleDelivery = sentinel("aborted", "stale_delivery")
	// ErrClosed is returned by calls on a closed Client, Subscription or
	// Consumer.
	ErrClosed = sentinel("canceled", "client_closed")
	// ErrUnavailable matches every error that says the server could not
	// be reached, went away or is shutting down.
	ErrUnavailable = &Error{Code: "unavailable", Reason: "unavailable", matchCode: true}
)

// toError converts what a Connect call returned into an *Error (context
// errors of the caller's own context pass through unchanged, so
// errors.Is(err, context.Canceled) holds).
func toError(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return &Error{Code: "unknown", Message: err.Error(), cause: err}
	}
	e := &Error{Code: ce.Code().String(), Message: ce.Message(), cause: ce}
	info := errorInfo(ce)
	switch {
	case info != nil:
		e.Reason, e.LastOffset = info.GetReason(), info.GetLastOffset()
	case ce.Code() == connect.CodeUnavailable:
		e.Reason = "unavailable"
	default:
		e.Reason = reasonPrefix(ce.Message())
	}
	if e.Reason != "" {
		e.Message = strings.TrimPrefix(strings.TrimPrefix(e.Message, e.Reason), ": ")
	}
	return e
}

// errorInfo returns the ErrorInfo detail the server attached, if any.
func errorInfo(ce *connect.Error) *courierv1.ErrorInfo {
	for _, d := range ce.Details() {
		m, err := connectproto.UnmarshalErrorDetail(d)
		if err != nil {
			continue
		}
		if info, ok := m.(*courierv1.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// reasonPrefix returns the snake_case word before ": " in msg, if any.
func reasonPrefix(msg string) string {
	word, _, ok := strings.Cut(msg, ": ")
	if !ok || word == "" {
		return ""
	}
	for _, r := range word {
		if (r < 'a' || r > 'z') && r != '_' {
			return ""
		}
	}
	return word
}

// fromServer reports whether err was authored by the server (it carries
// an ErrorInfo), as opposed to a transport failure.
func fromServer(err error) bool {
	var ce *connect.Error
	return errors.As(err, &ce) && errorInfo(ce) != nil
}

// transient reports whether err means the server went away or is
// restarting, so the call or stream is worth trying again.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Code() {
	case connect.CodeUnavailable:
		return isUnavailable(err)
	case connect.CodeUnknown, connect.CodeInternal, connect.CodeCanceled, connect.CodeAborted:
		return !fromServer(err)
	}
	return false
}

// isUnavailable reports whether err says the server could not be reached
// or is going away (not, say, no_responders), so a call is worth
// retrying.
func isUnavailable(err error) bool {
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeUnavailable {
		return false
	}
	info := errorInfo(ce)
	return info == nil || serverAway[info.GetReason()]
}

// notListening rewrites a refused connection into an error that says
// nothing listens at addr.
func notListening(err error, addr string) error {
	refused := errors.Is(err, syscall.ECONNREFUSED) || isDialError(err) ||
		(connect.CodeOf(err) == connect.CodeUnavailable && strings.Contains(err.Error(), "connection refused"))
	if !refused {
		return err
	}
	return &Error{Code: "unavailable", Reason: "unavailable",
		Message: fmt.Sprintf("nothing listens at %s", addr), cause: err}
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// errorf builds a local *Error.
func errorf(s *Error, format string, args ...any) *Error {
	return &Error{Code: s.Code, Reason: s.Reason, Message: fmt.Sprintf(format, args...)}
}
