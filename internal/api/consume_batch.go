package api

import (
	"runtime"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// Deliveries and settles travel in batches when more are ready at once: a
// delivery takes the others the member has ready (up to maxDeliveries)
// into one Deliveries frame, and a Settle may name many deliveries (same
// action), answered by one SettledBatch with each id's outcome.

// maxDeliveries bounds the deliveries of one frame.
const maxDeliveries = 256

// deliver sends d, with whatever else the member has ready at once.
func (c *consumer) deliver(d *broker.Delivery) error {
	first := c.record(d)
	var more []*courierv1.Delivery
	yielded := false
	for len(more) < maxDeliveries-1 {
		select {
		case d := <-c.m.C():
			more = append(more, c.record(d))
			yielded = false
			continue
		default:
		}
		if yielded {
			break
		}
		// The member's pump hands over one delivery at a time: let it
		// offer the next before deciding that nothing more is ready.
		runtime.Gosched()
		yielded = true
	}
	if len(more) == 0 {
		return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Delivery{Delivery: first}})
	}
	ds := append(make([]*courierv1.Delivery, 0, len(more)+1), first)
	return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Deliveries{
		Deliveries: &courierv1.Deliveries{Deliveries: append(ds, more...)}}})
}

// record gives d the next delivery id and remembers it until settled.
func (c *consumer) record(d *broker.Delivery) *courierv1.Delivery {
	c.lastID++
	c.out[c.lastID] = d
	if len(c.out) >= c.sweepAt {
		c.sweep()
	}
	return &courierv1.Delivery{DeliveryId: c.lastID, Message: fromBroker(&d.Message)}
}

// handle answers one client message after the join: a settle, of one
// delivery (Settled) or of several (SettledBatch, an outcome per id in
// the settle's order).
func (c *consumer) handle(req *courierv1.ConsumeRequest) error {
	s := req.GetSettle()
	if s == nil {
		return c.s.apiError(invalidArg("consume: after the join, only settles are accepted"))
	}
	if len(s.GetMoreDeliveryIds()) == 0 {
		return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Settled{
			Settled: c.settleOne(s, s.GetDeliveryId())}})
	}
	out := make([]*courierv1.Settled, 0, 1+len(s.GetMoreDeliveryIds()))
	out = append(out, c.settleOne(s, s.GetDeliveryId()))
	for _, id := range s.GetMoreDeliveryIds() {
		out = append(out, c.settleOne(s, id))
	}
	return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_SettledBatch{
		SettledBatch: &courierv1.SettledBatch{Settled: out}}})
}

// settleOne applies s's action to delivery id and says the outcome.
func (c *consumer) settleOne(s *courierv1.Settle, id uint64) *courierv1.Settled {
	res := &courierv1.Settled{DeliveryId: id}
	if err := c.settle(s, id); err != nil {
		res.Error = c.settleError(err)
	}
	return res
}
