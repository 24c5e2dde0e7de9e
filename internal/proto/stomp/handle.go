package stomp

import (
	"errors"

	"github.com/courier-mq/courier/internal/broker"
)

// handle serves one frame. It reports false once the connection is to
// end (a last frame is queued). Reader only.
func (c *conn) handle(f *Frame) bool {
	if !c.connected {
		if f.Command != cmdConnect && f.Command != cmdStomp {
			c.fail(protoErr("not connected", "the first frame must be CONNECT or STOMP, not %q", truncate([]byte(f.Command))), "")
			return false
		}
		return c.onConnect(f)
	}
	receipt, hasReceipt := f.Get(hdrReceipt)
	var err error
	switch f.Command {
	case cmdSend:
		err = c.onSend(f)
	case cmdSubscribe:
		err = c.onSubscribe(f)
	case cmdUnsubscribe:
		err = c.onUnsubscribe(f)
	case cmdAck, cmdNack:
		err = c.onAck(f, f.Command == cmdNack)
	case cmdBegin:
		err = c.onBegin(f)
	case cmdCommit:
		err = c.onCommit(f)
	case cmdAbort:
		err = c.onAbort(f)
	case cmdDisconnect:
		c.onDisconnect(receipt, hasReceipt)
		return false
	case cmdConnect, cmdStomp:
		err = protoErr("already connected", "%s may only be the first frame", f.Command)
	default:
		err = protoErr("unknown command", "%q is not a STOMP client command", truncate([]byte(f.Command)))
	}
	if err != nil {
		c.fail(asProtoErr(err), receipt)
		return false
	}
	if hasReceipt && f.Command != cmdSend { // a SEND's receipt waits for its publish
		c.queueConfirm(confirmItem{frame: c.receiptFrame(receipt)})
	}
	return true
}

// asProtoErr turns a broker error into a protocol error.
func asProtoErr(err error) *ProtocolError {
	if pe, ok := isProtoErr(err); ok {
		return pe
	}
	return publishError(err)
}

// publishError names a failed publish by its broker error class.
func publishError(err error) *ProtocolError {
	msg := "publish failed"
	switch {
	case errors.Is(err, broker.ErrTooLarge):
		msg = "message too large"
	case errors.Is(err, broker.ErrTooManyHeaders):
		msg = "too many headers"
	case errors.Is(err, broker.ErrReservedHeader):
		msg = "reserved header"
	case errors.Is(err, broker.ErrStreamFull):
		msg = "stream full"
	case errors.Is(err, broker.ErrInvalid):
		msg = "invalid message"
	case errors.Is(err, broker.ErrClosed):
		msg = "server shutting down"
	}
	return &ProtocolError{Msg: msg, Detail: err.Error()}
}

// onDisconnect ends the session: subscriptions stop first (nothing is
// delivered after the RECEIPT; they leave once the frames before it
// are written, so that auto acks land first), open transactions are
// dropped, and the RECEIPT (if asked for) follows every publish before
// it (spec "DISCONNECT": graceful shutdown).
func (c *conn) onDisconnect(receipt string, hasReceipt bool) {
	for _, s := range c.subs {
		s.halt()
	}
	c.txs, c.txBytes = map[string]*transaction{}, 0
	it := confirmItem{last: true}
	if hasReceipt {
		it.frame = c.receiptFrame(receipt)
	}
	c.queueConfirm(it)
}
