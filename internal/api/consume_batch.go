package api

import (
	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// Deliveries travel in batches: when the member signals that deliveries
// are ready, the stream takes every one queued for it (up to
// maxDeliveries; the member's max in flight bounds them anyway) and sends
// them in one Deliveries frame, or a lone one as a Delivery.

// maxDeliveries bounds the deliveries of one frame.
const maxDeliveries = 256

// deliver sends the deliveries the member has ready, if any.
func (c *consumer) deliver() error {
	ds := c.m.Take(c.taken[:0], maxDeliveries)
	c.taken = ds[:0]
	defer clear(ds)
	switch len(ds) {
	case 0:
		return nil
	case 1:
		return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Delivery{Delivery: c.record(ds[0])}})
	}
	out := make([]*courierv1.Delivery, len(ds))
	for i, d := range ds {
		out[i] = c.record(d)
	}
	return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Deliveries{
		Deliveries: &courierv1.Deliveries{Deliveries: out}}})
}

// record gives d the next delivery id and remembers it until settled.
func (c *consumer) record(d *broker.Delivery) *courierv1.Delivery {
	return &courierv1.Delivery{DeliveryId: c.ledger.record(d), Message: fromBroker(&d.Message)}
}
