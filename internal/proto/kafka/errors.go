package kafka

import (
	"context"
	"errors"

	"github.com/courier-mq/courier/internal/broker"
	clog "github.com/courier-mq/courier/internal/log"
	"github.com/twmb/franz-go/pkg/kerr"
)

// errorCode is the one registry from broker error classes to Kafka error
// codes. Handlers with a more precise meaning for a class (a stream not
// found is UNKNOWN_TOPIC_OR_PARTITION in Produce but also in DeleteTopics)
// use it too; only a few override a code for their API.
func errorCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, broker.ErrStreamNotFound):
		return kerr.UnknownTopicOrPartition.Code
	case errors.Is(err, broker.ErrStreamExists):
		return kerr.TopicAlreadyExists.Code
	case errors.Is(err, broker.ErrTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, clog.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, clog.ErrInvalidBatch):
		return kerr.CorruptMessage.Code
	case errors.Is(err, broker.ErrStreamFull), errors.Is(err, broker.ErrSubjectCaptured),
		errors.Is(err, broker.ErrStreamHasGroups):
		return kerr.PolicyViolation.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, broker.ErrTimeout):
		return kerr.RequestTimedOut.Code
	case errors.Is(err, broker.ErrClosed), errors.Is(err, clog.ErrClosed), errors.Is(err, context.Canceled):
		// Shutting down, or a partition log reopened by a stream update:
		// retriable, the client asks again.
		return kerr.NotLeaderForPartition.Code
	case errors.Is(err, clog.ErrFailed), errors.Is(err, clog.ErrCorrupt):
		return kerr.KafkaStorageError.Code
	case errors.Is(err, broker.ErrInvalid):
		return kerr.InvalidRequest.Code
	}
	return kerr.UnknownServerError.Code
}

// errMessage returns err's text for the response's error message field,
// or nil.
func errMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}
