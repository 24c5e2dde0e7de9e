package client

import (
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Leaving gracefully. Close sends the settles still queued, then a Leave
// naming the deliveries that arrived but were never taken with Next: the
// server releases them (the group gives them to another member without
// counting this delivery toward its max deliveries), gives back every
// other unsettled one, and ends the stream. Close waits a little for that
// end, then ends the stream either way.

// leaveWait bounds how long Close waits for the server to end the stream.
const leaveWait = 2 * time.Second

// leave sends the queued settles and a Leave, and waits for the end.
func (k *Consumer) leave() {
	k.flushAcks()
	k.mu.Lock()
	conn, gen, queued := k.mu.conn, k.mu.gen, k.mu.queue
	k.mu.queue = nil
	if conn != nil {
		k.closing.Store(true)
	}
	k.mu.Unlock()
	if conn == nil {
		return
	}
	// Settles made from now on queue up unsent, and fail when the
	// stream ends.
	k.out.mu.Lock()
	q := k.out.takeOverLocked()
	k.out.mu.Unlock()
	for _, m := range coalesce(q) {
		k.sendOne(m.conn, m.s)
	}
	k.sendMu.Lock()
	err := conn.stream.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Leave{
		Leave: &courierv1.Leave{ReleaseDeliveryIds: untaken(queued, gen)}}})
	k.sendMu.Unlock()
	if err != nil {
		return
	}
	t := time.NewTimer(leaveWait)
	defer t.Stop()
	select {
	case <-k.done:
	case <-t.C:
	}
}

// untaken returns the ids of the deliveries of generation gen in ds,
// marking them settled.
func untaken(ds []*Delivery, gen uint64) []uint64 {
	var ids []uint64
	for _, d := range ds {
		if d.gen == gen {
			d.settled.Store(true)
			ids = append(ids, d.id)
		}
	}
	return ids
}
