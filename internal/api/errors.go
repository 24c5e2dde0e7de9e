package api

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connectproto"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// errClass is one row of the error table: a broker error class, the
// Connect code it maps to and its stable reason.
type errClass struct {
	err    error
	code   connect.Code
	reason string
}

// errTable maps broker error classes to codes and reasons; the package doc
// repeats it. Order matters only where classes could overlap (they do not).
var errTable = []errClass{
	{broker.ErrInvalid, connect.CodeInvalidArgument, "invalid_argument"},
	{broker.ErrTooLarge, connect.CodeInvalidArgument, "message_too_large"},
	{broker.ErrTooManyHeaders, connect.CodeInvalidArgument, "too_many_headers"},
	{broker.ErrReservedHeader, connect.CodeInvalidArgument, "reserved_header"},
	{broker.ErrStreamNotFound, connect.CodeNotFound, "stream_not_found"},
	{broker.ErrGroupNotFound, connect.CodeNotFound, "group_not_found"},
	{broker.ErrStreamExists, connect.CodeAlreadyExists, "stream_exists"},
	{broker.ErrGroupExists, connect.CodeAlreadyExists, "group_exists"},
	{broker.ErrSubjectCaptured, connect.CodeAlreadyExists, "subject_captured"},
	{broker.ErrWrongLastOffset, connect.CodeFailedPrecondition, "wrong_last_offset"},
	{broker.ErrStreamHasGroups, connect.CodeFailedPrecondition, "stream_has_groups"},
	{broker.ErrAlreadySettled, connect.CodeFailedPrecondition, "already_settled"},
	{broker.ErrStreamFull, connect.CodeResourceExhausted, "stream_full"},
	{broker.ErrSlowConsumer, connect.CodeResourceExhausted, "slow_consumer"},
	{broker.ErrOffsetOutOfRange, connect.CodeOutOfRange, "offset_out_of_range"},
	{broker.ErrNoResponders, connect.CodeUnavailable, "no_responders"},
	{broker.ErrTimeout, connect.CodeDeadlineExceeded, "timeout"},
	{broker.ErrClosed, connect.CodeUnavailable, "closed"},
	{broker.ErrMemberLeft, connect.CodeAborted, "member_left"},
	{broker.ErrStorage, connect.CodeInternal, "storage_failed"},
	{errShutdown, connect.CodeUnavailable, "shutting_down"},
	{errSessionNotFound, connect.CodeNotFound, "session_not_found"},
	{context.DeadlineExceeded, connect.CodeDeadlineExceeded, "timeout"},
	{context.Canceled, connect.CodeCanceled, "canceled"},
}

// classify returns the code and reason of err; ok is false for an error
// of no known class.
func classify(err error) (code connect.Code, reason string, ok bool) {
	for _, c := range errTable {
		if errors.Is(err, c.err) {
			return c.code, c.reason, true
		}
	}
	return connect.CodeInternal, "internal", false
}

// apiError turns a broker error into the error a client sees: its code,
// a message starting with the reason, and an ErrorInfo detail. Errors of
// no known class are logged and answered as "internal" without their text;
// storage errors too (their text names files).
func (s *Server) apiError(err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return err
	}
	code, reason, ok := classify(err)
	msg := reason + ": " + err.Error()
	if !ok || code == connect.CodeInternal {
		s.log.Error("api: internal error", "reason", reason, "err", err)
		msg = reason + ": server error (see the server log)"
	}
	e := connect.NewError(code, msg).WithCause(err)
	info := &courierv1.ErrorInfo{Reason: reason}
	var wlo *broker.WrongLastOffsetError
	if errors.As(err, &wlo) {
		info.LastOffset = wlo.Actual
	}
	if d, derr := connectproto.NewErrorDetail(info); derr == nil {
		e = e.WithDetail(d)
	}
	return e
}

// invalidArg is a request the API itself refuses.
func invalidArg(format string, args ...any) error {
	return fmt.Errorf("%w: %s", broker.ErrInvalid, fmt.Sprintf(format, args...))
}

// batchError describes err as one failed item of a batch or a settle.
func (s *Server) batchError(err error) *courierv1.Error {
	code, reason, ok := classify(err)
	if !ok || code == connect.CodeInternal {
		s.log.Error("api: internal error", "reason", reason, "err", err)
		return &courierv1.Error{Reason: reason, Message: reason + ": server error (see the server log)"}
	}
	return &courierv1.Error{Reason: reason, Message: reason + ": " + err.Error()}
}

// explainReceiveErrors gives the errors the Connect runtime raises while
// reading a request message (malformed JSON or protobuf, a message over
// the read bound) a reason and an ErrorInfo, like every other error.
func (s *Server) explainReceiveErrors(next connect.ServerFunc) connect.ServerFunc {
	return func(ctx context.Context, spec connect.Spec, st connect.ServerStream) error {
		return next(ctx, spec, receiveErrors{st})
	}
}

// receiveErrors is a ServerStream whose Receive explains its errors.
type receiveErrors struct{ connect.ServerStream }

func (r receiveErrors) Receive(msg any) error {
	err := r.ServerStream.Receive(msg)
	var ce *connect.Error
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	switch ce.Code() {
	case connect.CodeInvalidArgument:
		return withReason(connect.CodeInvalidArgument, "invalid_argument", ce.Message(), err)
	case connect.CodeResourceExhausted:
		return withReason(connect.CodeResourceExhausted, "request_too_large", ce.Message(), err)
	}
	return err
}

// withReason builds an error whose message starts with reason and that
// carries an ErrorInfo detail.
func withReason(code connect.Code, reason, msg string, cause error) *connect.Error {
	e := connect.NewError(code, reason+": "+msg).WithCause(cause)
	if d, err := connectproto.NewErrorDetail(&courierv1.ErrorInfo{Reason: reason}); err == nil {
		e = e.WithDetail(d)
	}
	return e
}
