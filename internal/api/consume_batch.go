package api

// Deliveries travel in batches: when the member signals that deliveries
// are ready, the stream takes every one queued for it (up to
// maxDeliveries; the member's max in flight bounds them anyway) and sends
// them in one Deliveries frame, or a lone one as a Delivery, encoded
// straight from the broker's messages (message_raw.go).

// maxDeliveries bounds the deliveries of one frame.
const maxDeliveries = 256

// deliver sends the deliveries the member has ready, if any.
func (c *consumer) deliver() error {
	ds := c.m.Take(c.taken[:0], maxDeliveries)
	c.taken = ds[:0]
	defer clear(ds)
	if len(ds) == 0 {
		return nil
	}
	ids := c.ids[:0]
	for _, d := range ds {
		ids = append(ids, c.ledger.record(d))
	}
	c.ids = ids
	return c.st.Send(c.enc.deliveries(ids, ds))
}
