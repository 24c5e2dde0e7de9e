package api

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// defaultRequestTimeout is Request's timeout when the request sets none.
const defaultRequestTimeout = 5 * time.Second

// Request publishes with a private reply subject and answers with the
// first reply, within the request's timeout (default 5s).
func (h *messaging) Request(ctx context.Context, req *courierv1.RequestRequest) (*courierv1.RequestResponse, error) {
	reply, err := h.request(ctx, req.GetMessage(), req.GetTimeout())
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.RequestResponse{Reply: fromBroker(reply)}, nil
}

// request publishes m with a private reply subject and returns the first
// reply within timeout (nil: the default).
func (h *messaging) request(ctx context.Context, m *courierv1.Message, timeout *durationpb.Duration) (*broker.Message, error) {
	if m == nil {
		return nil, invalidArg("message is required")
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout(timeout))
	defer cancel()
	return h.s.b.Request(ctx, toBroker(m))
}

// requestTimeout is a request's timeout: its own, or the default.
func requestTimeout(timeout *durationpb.Duration) time.Duration {
	if d := duration(timeout); d > 0 {
		return d
	}
	return defaultRequestTimeout
}
