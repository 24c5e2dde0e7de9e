package stomp

import (
	"sort"
	"strconv"
	"strings"

	"github.com/courier-mq/courier/internal/broker"
)

// onAck settles a message (spec "ACK", "NACK"): ACK acks it, NACK
// nacks it so that the queue delivers it again. In client mode an ACK
// or NACK covers every earlier unsettled message of its subscription.
// Ids this connection does not hold unsettled (auto mode, topics,
// already settled) are ignored.
func (c *conn) onAck(f *Frame, nack bool) error {
	id, ok := f.Get(hdrID)
	if !ok {
		id, ok = f.Get(hdrMessageID) // STOMP 1.0 and 1.1
	}
	if !ok {
		return protoErr("missing id", "%s needs an id header (message-id before STOMP 1.2)", f.Command)
	}
	if txID, ok := f.Get(hdrTransaction); ok {
		return c.holdAck(txID, id, nack)
	}
	c.settle(id, nack)
	return nil
}

// settle applies an ACK or NACK of id.
func (c *conn) settle(id string, nack bool) {
	num, seq, ok := parseMsgID(id)
	if !ok {
		return
	}
	s := c.subsByNum[num]
	if s == nil {
		return
	}
	ds := s.takePending(seq, s.mode == ackClient)
	st := broker.Settlement{Outcome: broker.OutcomeAck}
	if nack {
		st.Outcome = broker.OutcomeNack
	}
	broker.SettleAll(ds, st) // a delivery already taken back is no longer ours
}

// parseMsgID splits a message id "num-seq".
func parseMsgID(id string) (num, seq uint64, ok bool) {
	a, b, ok := strings.Cut(id, "-")
	if !ok {
		return 0, 0, false
	}
	num, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return num, seq, err1 == nil && err2 == nil
}

// takePending removes and returns the pending delivery seq, and with
// cumulative every one before it.
func (s *subscription) takePending(seq uint64, cumulative bool) []*broker.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mu.pending
	i := sort.Search(len(p), func(i int) bool { return p[i].seq >= seq })
	if i == len(p) || p[i].seq != seq {
		return nil
	}
	from := i
	if cumulative {
		from = 0
	}
	ds := make([]*broker.Delivery, 0, i+1-from)
	for _, pm := range p[from : i+1] {
		ds = append(ds, pm.d)
	}
	n := copy(p[from:], p[i+1:])
	clear(p[from+n:])
	s.mu.pending = p[:from+n]
	return ds
}
