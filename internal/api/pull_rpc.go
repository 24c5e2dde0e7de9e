package api

import (
	"context"
	"errors"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// Fetch opens a pull session or continues one, and answers the
// deliveries ready (waiting up to the request's wait for a first one).
func (h *messaging) Fetch(ctx context.Context, req *courierv1.FetchRequest) (*courierv1.FetchResponse, error) {
	n := int(req.GetMaxMessages())
	if n < 0 || n > maxFetch {
		return nil, h.s.apiError(invalidArg("fetch: max_messages %d: use 0 to %d", n, maxFetch))
	}
	wait := duration(req.GetWait())
	if wait < 0 || wait > maxFetchWait {
		return nil, h.s.apiError(invalidArg("fetch: wait %v: use 0 to %v", wait, maxFetchWait))
	}
	ps, err := h.session(req)
	if err != nil {
		return nil, h.s.apiError(err)
	}
	ds, err := ps.fetch(ctx, h.s.quit, max(n, 1), wait)
	ps.done()
	if errors.Is(err, broker.ErrGroupNotFound) || errors.Is(err, broker.ErrClosed) {
		h.s.pulls.end(ps) // the member ended with its group
	}
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.FetchResponse{Session: ps.id, Deliveries: ds}, nil
}

// session returns the request's session, opened if it names none, locked.
func (h *messaging) session(req *courierv1.FetchRequest) (*pullSession, error) {
	if req.GetSession() != "" {
		return h.s.pulls.get(req.GetSession(), req.GetStream(), req.GetGroup())
	}
	idle := minPullIdle
	if h.s.opts.pullIdle > 0 {
		idle = h.s.opts.pullIdle
	}
	ps, err := h.s.pulls.open(h.s.b, req.GetStream(), req.GetGroup(), idle)
	if err != nil {
		return nil, err
	}
	return h.s.pulls.get(ps.id, "", "")
}

// Settle settles deliveries of a pull session, answering each id.
func (h *messaging) Settle(_ context.Context, req *courierv1.SettleRequest) (*courierv1.SettleResponse, error) {
	s := req.GetSettle()
	if s == nil {
		return nil, h.s.apiError(invalidArg("settle: no settle given"))
	}
	ps, err := h.s.pulls.get(req.GetSession(), "", "")
	if err != nil {
		return nil, h.s.apiError(err)
	}
	defer ps.done()
	ids := append([]uint64{s.GetDeliveryId()}, s.GetMoreDeliveryIds()...)
	errs := ps.settleIDs(s, ids)
	out := make([]*courierv1.Settled, len(ids))
	for i, id := range ids {
		out[i] = &courierv1.Settled{DeliveryId: id}
		if errs[i] != nil {
			out[i].Error = h.s.settleError(errs[i])
		}
	}
	return &courierv1.SettleResponse{Settled: out}, nil
}
