package amqp

import (
	"errors"
	"fmt"
	"github.com/courier-mq/courier/internal/broker"
)

// Reply codes (spec constants).
const (
	codeReplySuccess       = 200
	codeContentTooLarge    = 311
	codeNoRoute            = 312
	codeConnectionForced   = 320
	codeAccessRefused      = 403
	codeNotFound           = 404
	codeResourceLocked     = 405
	codePreconditionFailed = 406
	codeFrameError         = 501
	codeSyntaxError        = 502
	codeCommandInvalid     = 503
	codeChannelError       = 504
	codeUnexpectedFrame    = 505
	codeResourceError      = 506
	codeNotAllowed         = 530
	codeNotImplemented     = 540
	codeInternalError      = 541
)

const classBasic = 60

var errMoreFlags = errors.New("property flags continue past 16 bits: the basic class has 14 properties")

// amqpError is a channel or connection exception: the channel (soft
// codes) or the connection (hard codes, or any error on channel 0) is
// closed with code and text.
type amqpError struct {
	code  uint16
	text  string
	class uint16 // the failing method's ids, 0 if none
	meth  uint16
}

func (e *amqpError) Error() string { return fmt.Sprintf("%d %s", e.code, e.text) }

// hard reports whether the code closes the connection.
func (e *amqpError) hard() bool {
	switch e.code {
	case codeContentTooLarge, codeNoRoute, 313, codeAccessRefused, codeNotFound, codeResourceLocked, codePreconditionFailed:
		return false
	}
	return true
}

var codeNames = map[uint16]string{
	codeContentTooLarge: "CONTENT_TOO_LARGE", codeNoRoute: "NO_ROUTE", codeConnectionForced: "CONNECTION_FORCED",
	codeAccessRefused: "ACCESS_REFUSED", codeNotFound: "NOT_FOUND", codeResourceLocked: "RESOURCE_LOCKED",
	codePreconditionFailed: "PRECONDITION_FAILED", codeFrameError: "FRAME_ERROR", codeSyntaxError: "SYNTAX_ERROR",
	codeCommandInvalid: "COMMAND_INVALID", codeChannelError: "CHANNEL_ERROR", codeUnexpectedFrame: "UNEXPECTED_FRAME",
	codeResourceError: "RESOURCE_ERROR", codeNotAllowed: "NOT_ALLOWED", codeNotImplemented: "NOT_IMPLEMENTED",
	codeInternalError: "INTERNAL_ERROR",
}

// newErr makes an exception whose text starts with the code's name, as
// RabbitMQ's do ("NOT_FOUND - no queue 'q'").
func newErr(code uint16, format string, args ...any) *amqpError {
	return &amqpError{code: code, text: codeNames[code] + " - " + fmt.Sprintf(format, args...)}
}

// brokerErr maps a broker error to an exception, naming what failed.
func brokerErr(err error, format string, args ...any) *amqpError {
	code := uint16(codeInternalError)
	switch {
	case errors.Is(err, broker.ErrStreamNotFound), errors.Is(err, broker.ErrGroupNotFound):
		code = codeNotFound
	case errors.Is(err, broker.ErrInvalid), errors.Is(err, broker.ErrStreamExists), errors.Is(err, broker.ErrGroupExists),
		errors.Is(err, broker.ErrSubjectCaptured), errors.Is(err, broker.ErrTooLarge), errors.Is(err, broker.ErrTooManyHeaders),
		errors.Is(err, broker.ErrReservedHeader), errors.Is(err, broker.ErrStreamFull), errors.Is(err, broker.ErrStreamHasGroups),
		errors.Is(err, broker.ErrAlreadySettled):
		code = codePreconditionFailed
	case errors.Is(err, broker.ErrClosed):
		code = codeConnectionForced
	}
	return newErr(code, "%s: %v", fmt.Sprintf(format, args...), err)
}

// brokerErrOrNil is brokerErr, or nil for a nil err.
func brokerErrOrNil(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return brokerErr(err, format, args...)
}
