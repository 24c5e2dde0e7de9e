package api

import (
	"fmt"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// ledger numbers the deliveries handed to one consumer (a Consume stream
// or a pull session) and keeps them by delivery id until settled.
type ledger struct {
	out    map[uint64]*broker.Delivery
	lastID uint64
	// sweepAt is the size of out at which stale deliveries (taken back by
	// the broker, never settled here) are forgotten; it keeps out bounded
	// by about twice what is really out.
	sweepAt int
}

// minSweep is the smallest sweepAt.
const minSweep = 64

func newLedger() ledger {
	return ledger{out: map[uint64]*broker.Delivery{}, sweepAt: minSweep}
}

// record gives d the next delivery id and keeps it until settled.
func (l *ledger) record(d *broker.Delivery) uint64 {
	l.lastID++
	l.out[l.lastID] = d
	if len(l.out) >= l.sweepAt {
		l.sweep()
	}
	return l.lastID
}

// sweep forgets the deliveries the broker took back. A settle of one of
// their ids then answers already_settled, as the broker would.
func (l *ledger) sweep() {
	for id, d := range l.out {
		if d.Stale() {
			delete(l.out, id)
		}
	}
	l.sweepAt = max(2*len(l.out), minSweep)
}

// settleIDs applies s's action to each id and returns each one's error.
// An id handed out here and already settled is already_settled; one never
// handed out is unknown_delivery.
func (l *ledger) settleIDs(s *courierv1.Settle, ids []uint64) []error {
	errs := make([]error, len(ids))
	how, err := settlement(s)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	ds := make([]*broker.Delivery, 0, len(ids))
	at := make([]int, 0, len(ids)) // ds[j] is ids[at[j]]
	for i, id := range ids {
		d, ok := l.out[id]
		switch {
		case ok:
			ds, at = append(ds, d), append(at, i)
			if how.Outcome != broker.OutcomeProgress {
				delete(l.out, id)
			}
		case id != 0 && id <= l.lastID:
			errs[i] = fmt.Errorf("%w: delivery %d", broker.ErrAlreadySettled, id)
		default:
			errs[i] = fmt.Errorf("%w: delivery %d was never handed out here", errUnknownDelivery, id)
		}
	}
	for j, err := range broker.SettleAll(ds, how) {
		errs[at[j]] = err
	}
	return errs
}
