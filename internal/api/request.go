package api

import (
	"context"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// defaultRequestTimeout is Request's timeout when the request sets none.
const defaultRequestTimeout = 5 * time.Second

// Request publishes with a private reply subject and answers with the
// first reply, within the request's timeout (default 5s).
func (h *messaging) Request(ctx context.Context, req *courierv1.RequestRequest) (*courierv1.RequestResponse, error) {
	if req.GetMessage() == nil {
		return nil, h.s.apiError(invalidArg("message is required"))
	}
	timeout := duration(req.GetTimeout())
	if timeout <= 0 {
		timeout = defaultRequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reply, err := h.s.b.Request(ctx, toBroker(req.GetMessage()))
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.RequestResponse{Reply: fromBroker(reply)}, nil
}
