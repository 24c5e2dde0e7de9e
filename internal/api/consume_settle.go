package api

import (
	"errors"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// A Settle names one delivery or several (more_delivery_ids), all with
// the same action; the broker settles them together (broker.SettleAll,
// one lock per group). The answer is a Settled for one id and a
// SettledBatch (an outcome per id, in the settle's order) for several; a
// quiet settle is answered only with the ids that failed, if any.

// errUnknownDelivery is a settle of an id this stream never sent.
var errUnknownDelivery = errors.New("unknown delivery")

// errLeft ends the stream cleanly after a Leave.
var errLeft = errors.New("left")

// handle answers one client message after the join. A Leave releases the
// deliveries it names and ends the stream (errLeft); the member leaves as
// the handler returns, before anything else is delivered.
func (c *consumer) handle(req *courierv1.ConsumeRequest) error {
	if l := req.GetLeave(); l != nil {
		if ids := l.GetReleaseDeliveryIds(); len(ids) > 0 {
			errs := c.settleIDs(&courierv1.Settle{Action: courierv1.Settle_ACTION_RELEASE}, ids)
			for i, err := range errs {
				if err != nil {
					c.s.log.Debug("api: release at leave failed", "id", ids[i], "err", err)
				}
			}
		}
		return errLeft
	}
	s := req.GetSettle()
	if s == nil {
		return c.s.apiError(invalidArg("consume: after the join, only settles and a leave are accepted"))
	}
	ids := append([]uint64{s.GetDeliveryId()}, s.GetMoreDeliveryIds()...)
	errs := c.settleIDs(s, ids)
	if s.GetQuiet() {
		return c.answerFailures(ids, errs)
	}
	out := make([]*courierv1.Settled, len(ids))
	for i, id := range ids {
		out[i] = &courierv1.Settled{DeliveryId: id}
		if errs[i] != nil {
			out[i].Error = c.settleError(errs[i])
		}
	}
	if len(out) == 1 {
		return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Settled{Settled: out[0]}})
	}
	return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_SettledBatch{
		SettledBatch: &courierv1.SettledBatch{Settled: out}}})
}

// answerFailures answers a quiet settle: one SettledBatch with the ids
// that failed, nothing when none did.
func (c *consumer) answerFailures(ids []uint64, errs []error) error {
	var out []*courierv1.Settled
	for i, err := range errs {
		if err != nil {
			out = append(out, &courierv1.Settled{DeliveryId: ids[i], Error: c.settleError(err)})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_SettledBatch{
		SettledBatch: &courierv1.SettledBatch{Settled: out}}})
}

// settlement is a settle's action as the broker's.
func settlement(s *courierv1.Settle) (broker.Settlement, error) {
	var o broker.Outcome
	switch s.GetAction() {
	case courierv1.Settle_ACTION_ACK:
		o = broker.OutcomeAck
	case courierv1.Settle_ACTION_NACK:
		o = broker.OutcomeNack
	case courierv1.Settle_ACTION_TERM:
		o = broker.OutcomeTerm
	case courierv1.Settle_ACTION_REJECT:
		o = broker.OutcomeReject
	case courierv1.Settle_ACTION_IN_PROGRESS:
		o = broker.OutcomeProgress
	case courierv1.Settle_ACTION_RELEASE:
		o = broker.OutcomeRelease
	default:
		return broker.Settlement{}, invalidArg("settle: action %v: must be ack, nack, term, reject, in_progress or release", s.GetAction())
	}
	return broker.Settlement{Outcome: o, Delay: duration(s.GetDelay()), Error: s.GetError()}, nil
}

func (c *consumer) settleError(err error) *courierv1.Error { return c.s.settleError(err) }

// settleError describes a failed settle of one delivery.
func (s *Server) settleError(err error) *courierv1.Error {
	if errors.Is(err, errUnknownDelivery) {
		return &courierv1.Error{Reason: "unknown_delivery", Message: "unknown_delivery: " + err.Error()}
	}
	return s.batchError(err)
}
