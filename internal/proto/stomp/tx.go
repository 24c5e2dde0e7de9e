package stomp

import (
	"github.com/courier-mq/courier/internal/broker"
)

// transaction holds a transaction's SENDs and ACKs until COMMIT (spec
// "BEGIN", "COMMIT", "ABORT"). COMMIT publishes the SENDs in order
// (each durable before the COMMIT's receipt) and then applies the ACKs;
// it is not atomic against a failure midway, which ends the connection
// with an ERROR.
type transaction struct {
	ops []txOp
}

// txOp is a held SEND (msg set) or ACK/NACK.
type txOp struct {
	msg   *broker.Message
	queue string // the SEND's queue, if any
	id    string
	nack  bool
}

func (c *conn) txID(f *Frame) (string, error) {
	id, ok := f.Get(hdrTransaction)
	if !ok || id == "" {
		return "", protoErr("missing transaction", "%s needs a transaction header", f.Command)
	}
	return id, nil
}

func (c *conn) tx(id string) (*transaction, error) {
	t := c.txs[id]
	if t == nil {
		return nil, protoErr("unknown transaction", "no transaction %q is open on this connection", truncate([]byte(id)))
	}
	return t, nil
}

func (c *conn) onBegin(f *Frame) error {
	id, err := c.txID(f)
	if err != nil {
		return err
	}
	if c.txs[id] != nil {
		return protoErr("duplicate transaction", "transaction %q is already open", truncate([]byte(id)))
	}
	if len(c.txs) >= c.s.opts.MaxTransactions {
		return protoErr("too many transactions", "a connection may hold at most %d open transactions", c.s.opts.MaxTransactions)
	}
	c.txs[id] = &transaction{}
	return nil
}

func (c *conn) onCommit(f *Frame) error {
	id, err := c.txID(f)
	if err != nil {
		return err
	}
	t, err := c.tx(id)
	if err != nil {
		return err
	}
	c.dropTx(id, t)
	for _, op := range t.ops {
		if op.msg == nil {
			c.settle(op.id, op.nack)
			continue
		}
		wait, err := c.s.b.PublishAsync(op.msg, broker.Expect{})
		if err != nil {
			return publishError(err)
		}
		c.queueConfirm(confirmItem{wait: wait, queue: op.queue})
	}
	return nil
}

func (c *conn) onAbort(f *Frame) error {
	id, err := c.txID(f)
	if err != nil {
		return err
	}
	t, err := c.tx(id)
	if err != nil {
		return err
	}
	c.dropTx(id, t)
	return nil
}

func (c *conn) dropTx(id string, t *transaction) {
	delete(c.txs, id)
	for _, op := range t.ops {
		c.txBytes -= opSize(op)
	}
}

// holdSend adds a SEND to its transaction, within MaxTransactionBytes.
func (c *conn) holdSend(txID string, m *broker.Message, f *Frame) error {
	return c.hold(txID, txOp{msg: m, queue: queueOf(f.Value(hdrDestination))})
}

// holdAck adds an ACK or NACK to its transaction.
func (c *conn) holdAck(txID, id string, nack bool) error {
	return c.hold(txID, txOp{id: id, nack: nack})
}

func (c *conn) hold(txID string, op txOp) error {
	t, err := c.tx(txID)
	if err != nil {
		return err
	}
	n := opSize(op)
	if c.txBytes+n > c.s.opts.MaxTransactionBytes {
		return protoErr("transaction too large", "open transactions may hold at most %d bytes on a connection", c.s.opts.MaxTransactionBytes)
	}
	c.txBytes += n
	t.ops = append(t.ops, op)
	return nil
}

// opSize is what a held operation counts against MaxTransactionBytes.
func opSize(op txOp) int {
	n := 64 + len(op.id)
	if m := op.msg; m != nil {
		n += len(m.Subject) + len(m.Payload)
		for _, h := range m.Headers {
			n += len(h.Key) + len(h.Value)
		}
	}
	return n
}
