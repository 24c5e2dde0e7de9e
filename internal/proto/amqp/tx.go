package amqp

import (
	"github.com/courier-mq/courier/internal/broker"
)

// Transactions (tx.select, tx.commit, tx.rollback). In a transactional
// channel publishes and settlements (ack, nack, reject) are held until
// tx.commit, which publishes the messages in order, waits until every one
// is durable, then applies the settlements, and only then answers
// commit-ok; tx.rollback drops what is held (deliveries it would have
// acked stay unacknowledged, as in RabbitMQ). A channel is transactional
// or in confirm mode, never both. A mandatory publish that no queue would
// take comes back at once, not at commit.

// txSettle is a settlement held for tx.commit.
type txSettle struct {
	tag      uint64
	multiple bool
	st       broker.Settlement
}

func (ch *channel) txSelect() error {
	if ch.confirm {
		return newErr(codePreconditionFailed, "cannot switch from confirm to tx mode")
	}
	ch.tx = true
	ch.send(&txSelectOk{})
	return nil
}

func (ch *channel) txCommit() error {
	if !ch.tx {
		return newErr(codePreconditionFailed, "channel is not transactional")
	}
	pubs, settles := ch.txPubs, ch.txSettles
	ch.txPubs, ch.txSettles = nil, nil
	waits := make([]func(), 0, len(pubs))
	var firstErr error
	for _, m := range pubs {
		wait, err := ch.c.s.b.PublishAsync(m, broker.Expect{})
		if err != nil {
			firstErr = brokerErr(err, "tx.commit: publish to subject '%s'", m.Subject)
			break
		}
		waits = append(waits, func() {
			if _, err := wait(ch.c.ctx); err != nil && firstErr == nil {
				firstErr = brokerErr(err, "tx.commit: publish to subject '%s'", m.Subject)
			}
		})
	}
	for _, w := range waits {
		w()
	}
	if firstErr != nil {
		return firstErr
	}
	for _, s := range settles {
		if err := ch.settle(s.tag, s.multiple, s.st); err != nil {
			return err
		}
	}
	ch.send(&txCommitOk{})
	return nil
}

func (ch *channel) txRollback() error {
	if !ch.tx {
		return newErr(codePreconditionFailed, "channel is not transactional")
	}
	ch.txPubs, ch.txSettles = nil, nil
	ch.send(&txRollbackOk{})
	return nil
}

// settleOrHold settles now, or holds the settlement for tx.commit.
func (ch *channel) settleOrHold(tag uint64, multiple bool, st broker.Settlement) error {
	if ch.tx {
		ch.txSettles = append(ch.txSettles, txSettle{tag, multiple, st})
		return nil
	}
	return ch.settle(tag, multiple, st)
}
