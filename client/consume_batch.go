package client

import (
	"slices"
	"sync"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"google.golang.org/protobuf/proto"
)

// Settles are coalesced. A settle goes out at once when no other is being
// sent; while one is, the settles that come meanwhile queue up and leave
// together, each run of the same action (and delay and reason) as one
// Settle naming many deliveries. The server answers each id on its own
// (SettledBatch), so each Ack still learns its own outcome.

// maxSettleIDs bounds the deliveries of one Settle.
const maxSettleIDs = 1024

// settleQueue holds the settles waiting to be sent, and whether a caller
// is sending them.
type settleQueue struct {
	mu      sync.Mutex
	sending bool
	q       []queuedSettle
	idle    *sync.Cond // made by the first waitIdleLocked; signalled when sending ends
}

// takeOverLocked waits until no caller is sending, then makes the caller
// the sender (for good: Close half-closes the stream after it) and
// returns what is queued. Caller holds q.mu.
func (q *settleQueue) takeOverLocked() []queuedSettle {
	if q.idle == nil {
		q.idle = sync.NewCond(&q.mu)
	}
	for q.sending {
		q.idle.Wait()
	}
	q.sending = true
	out := q.q
	q.q = nil
	return out
}

type queuedSettle struct {
	conn *consumeConn
	s    *courierv1.Settle
}

// send queues s for conn, and sends what is queued unless another caller
// already is (that one then sends s too).
func (k *Consumer) send(conn *consumeConn, s *courierv1.Settle) {
	k.sendAll(queuedSettle{conn, s})
}

// sendAll queues settles, and sends what is queued unless another caller
// already is (that one then sends them too).
func (k *Consumer) sendAll(qs ...queuedSettle) {
	k.out.mu.Lock()
	k.out.q = append(k.out.q, qs...)
	if k.out.sending {
		k.out.mu.Unlock()
		return
	}
	k.out.sending = true
	for {
		q := k.out.q
		k.out.q = nil
		if len(q) == 0 {
			k.out.sending = false
			if k.out.idle != nil {
				k.out.idle.Broadcast()
			}
			k.out.mu.Unlock()
			return
		}
		k.out.mu.Unlock()
		for _, m := range coalesce(q) {
			k.sendOne(m.conn, m.s)
		}
		k.out.mu.Lock()
	}
}

// sendOne sends one Settle on conn.
func (k *Consumer) sendOne(conn *consumeConn, s *courierv1.Settle) {
	k.sendMu.Lock()
	err := conn.stream.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Settle{Settle: s}})
	k.sendMu.Unlock()
	if err != nil {
		// The stream broke: the reader drops the generation, which
		// answers the waiting settles with ErrStaleDelivery.
		conn.cancel()
	}
}

// coalesce merges each run of settles alike (same connection, action,
// delay and reason) into one Settle with more ids, keeping the order.
func coalesce(q []queuedSettle) []queuedSettle {
	out := q[:0:0]
	for _, m := range q {
		if n := len(out); n > 0 && alike(out[n-1], m) && len(out[n-1].s.MoreDeliveryIds) < maxSettleIDs-1 {
			last := out[n-1].s
			last.MoreDeliveryIds = append(last.MoreDeliveryIds, m.s.DeliveryId)
			continue
		}
		out = append(out, queuedSettle{m.conn, &courierv1.Settle{DeliveryId: m.s.DeliveryId, Action: m.s.Action,
			Delay: m.s.Delay, Error: m.s.Error, Quiet: m.s.Quiet, MoreDeliveryIds: slices.Clone(m.s.MoreDeliveryIds)}})
	}
	return out
}

func alike(a, b queuedSettle) bool {
	return a.conn == b.conn && a.s.Action == b.s.Action && a.s.Error == b.s.Error && a.s.Quiet == b.s.Quiet &&
		proto.Equal(a.s.Delay, b.s.Delay) && len(b.s.MoreDeliveryIds) == 0
}
