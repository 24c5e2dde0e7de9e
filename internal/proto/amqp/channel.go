package amqp

import (
	"errors"
	"sync"

	"github.com/courier-mq/courier/internal/broker"
)

// channel is one AMQP channel. Its reader-side state (content being
// assembled, confirm mode, getters) is touched by the connection's reader
// only; mu guards what the consumers' pumps share with it: delivery tags,
// unacknowledged deliveries, consumers, flow.
type channel struct {
	id uint16
	c  *conn

	// Reader only.
	closing   bool     // channel.close sent, waiting for close-ok
	pub       *pending // a basic.publish waiting for its content
	confirm   bool     // confirm.select seen
	tx        bool     // tx.select seen (tx.go)
	txPubs    []*broker.Message
	txSettles []txSettle
	pubSeq    uint64       // publish sequence number in confirm mode
	confirmQ  chan confirm // to the confirmer, in publish order
	confDone  chan struct{}
	prefetch  int
	getters   map[string]*broker.Member // basic.get's pull members, by stream

	mu        sync.Mutex
	nextTag   uint64
	unacked   map[uint64]*unacked
	consumers map[string]*consumer
	paused    bool // channel.flow active=false
	global    int  // basic.qos global prefetch; 0: none
	reserved  int  // credit taken by pumps, not yet delivered
}

// unacked is a delivery waiting for its ack; cons is nil for basic.get.
type unacked struct {
	d    *broker.Delivery
	cons *consumer
}

func newChannel(c *conn, id uint16) *channel {
	return &channel{id: id, c: c, getters: map[string]*broker.Member{},
		unacked: map[uint64]*unacked{}, consumers: map[string]*consumer{}}
}

// send queues a method on the channel.
func (ch *channel) send(m method) bool { return ch.c.send(appendMethod(nil, ch.id, m)) }

// ok sends a synchronous reply unless the request said no-wait.
func (ch *channel) ok(noWait bool, m method) error {
	if !noWait {
		ch.send(m)
	}
	return nil
}

// dispatch handles a frame after the handshake.
func (c *conn) dispatch(f frame) error {
	switch f.typ {
	case frameHeartbeat:
		if f.channel != 0 {
			return frameErr(codeFrameError, "FRAME_ERROR - heartbeat on channel %d", f.channel)
		}
		return nil
	case frameMethod:
		m, err := decodeMethod(f.payload)
		if err != nil {
			return err
		}
		if f.channel == 0 {
			return c.connMethod(m)
		}
		return c.channelMethod(f.channel, m)
	}
	ch := c.chans[f.channel]
	if ch == nil {
		return newErr(codeChannelError, "content frame on channel %d, which is not open", f.channel)
	}
	if ch.closing {
		return nil
	}
	return ch.check(ch.content(f), nil)
}

// connMethod handles a method on channel 0.
func (c *conn) connMethod(m method) error {
	switch m := m.(type) {
	case *connectionClose:
		c.send(appendMethod(nil, 0, &connectionCloseOk{}))
		return errConnClosed
	case *connectionUpdateSecret:
		c.send(appendMethod(nil, 0, &connectionUpdateSecretOk{}))
		return nil
	default:
		return newErr(codeCommandInvalid, "%s is not valid on channel 0 now", m.Name())
	}
}

// channelMethod handles a method on channel id.
func (c *conn) channelMethod(id uint16, m method) error {
	ch := c.chans[id]
	if _, ok := m.(*channelOpen); ok {
		if ch != nil {
			return newErr(codeChannelError, "second 'channel.open' seen on channel %d", id)
		}
		if id > c.channelMax {
			return newErr(codeChannelError, "channel %d is above channel-max %d", id, c.channelMax)
		}
		c.chans[id] = newChannel(c, id)
		c.send(appendMethod(nil, id, &channelOpenOk{}))
		return nil
	}
	if ch == nil {
		return newErr(codeChannelError, "expected 'channel.open' on channel %d, got %s", id, m.Name())
	}
	if ch.closing {
		switch m.(type) {
		case *channelCloseOk:
			delete(c.chans, id)
		case *channelClose: // both sides closed at once: each close answers the other
			ch.send(&channelCloseOk{})
			delete(c.chans, id)
		}
		return nil // spec 4.2.6: other frames are discarded
	}
	if ch.pub != nil {
		return newErr(codeUnexpectedFrame, "expected content for basic.publish on channel %d, got %s", id, m.Name())
	}
	return ch.check(ch.handle(m), m)
}

// check turns a handler's error into a channel close (soft codes) or
// returns it to close the connection (hard codes).
func (ch *channel) check(err error, m method) error {
	if err == nil {
		return nil
	}
	var ae *amqpError
	if !errors.As(err, &ae) {
		ae = newErr(codeInternalError, "%v", err)
	}
	if m != nil {
		ae.class, ae.meth = m.ID()
	}
	if ae.hard() {
		return ae
	}
	ch.c.s.log.Debug("amqp: closing channel", "remote", ch.c.nc.RemoteAddr(), "channel", ch.id, "code", ae.code, "text", ae.text)
	ch.teardown()
	ch.closing = true
	ch.send(&channelClose{ReplyCode: ae.code, ReplyText: ae.text, ClassId: ae.class, MethodId: ae.meth})
	return nil
}

// handle runs one method of an open channel.
func (ch *channel) handle(m method) error {
	switch m := m.(type) {
	case *channelClose:
		ch.teardown()
		delete(ch.c.chans, ch.id)
		ch.send(&channelCloseOk{})
		return nil
	case *channelFlow:
		ch.setFlow(m.Active)
		ch.send(&channelFlowOk{Active: m.Active})
		return nil
	case *channelFlowOk:
		return nil
	case *exchangeDeclare:
		return ch.exchangeDeclare(m)
	case *exchangeDelete:
		return ch.exchangeDelete(m)
	case *queueDeclare:
		return ch.queueDeclare(m)
	case *queueBind:
		return ch.queueBind(m)
	case *queueUnbind:
		return ch.queueUnbind(m)
	case *queuePurge:
		return ch.queuePurge(m)
	case *queueDelete:
		return ch.queueDelete(m)
	case *basicQos:
		return ch.basicQos(m)
	case *basicConsume:
		return ch.basicConsume(m)
	case *basicCancel:
		return ch.basicCancel(m)
	case *basicPublish:
		return ch.basicPublish(m)
	case *basicGet:
		return ch.basicGet(m)
	case *basicAck:
		return ch.settleOrHold(m.DeliveryTag, m.Multiple, broker.Settlement{Outcome: broker.OutcomeAck})
	case *basicNack:
		return ch.settleOrHold(m.DeliveryTag, m.Multiple, requeueOutcome(m.Requeue))
	case *basicReject:
		return ch.settleOrHold(m.DeliveryTag, false, requeueOutcome(m.Requeue))
	case *basicRecover:
		return ch.recover(m.Requeue, true)
	case *basicRecoverAsync:
		return ch.recover(m.Requeue, false)
	case *confirmSelect:
		return ch.confirmSelect(m)
	case *txSelect:
		return ch.txSelect()
	case *txCommit:
		return ch.txCommit()
	case *txRollback:
		return ch.txRollback()
	case *exchangeBind:
		return ch.exchangeBind(m)
	case *exchangeUnbind:
		return ch.exchangeUnbind(m)
	}
	return newErr(codeCommandInvalid, "%s is not valid on channel %d", m.Name(), ch.id)
}

// teardown ends the channel's consumers and getters (their unacknowledged
// deliveries go back to the queues) and its confirmer.
func (ch *channel) teardown() {
	ch.mu.Lock()
	cons := make([]*consumer, 0, len(ch.consumers))
	for _, cs := range ch.consumers {
		cons = append(cons, cs)
	}
	clear(ch.consumers)
	clear(ch.unacked)
	ch.mu.Unlock()
	for _, cs := range cons {
		cs.end()
	}
	for st, m := range ch.getters {
		m.Leave()
		delete(ch.getters, st)
	}
	ch.pub = nil
	ch.txPubs, ch.txSettles = nil, nil
	if ch.confirmQ != nil {
		close(ch.confirmQ)
		<-ch.confDone
		ch.confirmQ = nil
	}
}

func (ch *channel) setFlow(active bool) {
	ch.mu.Lock()
	ch.paused = !active
	cons := make([]*consumer, 0, len(ch.consumers))
	for _, cs := range ch.consumers {
		cons = append(cons, cs)
	}
	ch.mu.Unlock()
	for _, cs := range cons {
		cs.poke()
	}
}
