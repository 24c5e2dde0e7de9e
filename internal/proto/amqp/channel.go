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
func (ch *channel) send(m Method) bool { return ch.c.send(appendMethod(nil, ch.id, m)) }

// ok sends a synchronous reply unless the request said no-wait.
func (ch *channel) ok(noWait bool, m Method) error {
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
func (c *conn) connMethod(m Method) error {
	switch m := m.(type) {
	case *ConnectionClose:
		c.send(appendMethod(nil, 0, &ConnectionCloseOk{}))
		return errConnClosed
	case *ConnectionUpdateSecret:
		c.send(appendMethod(nil, 0, &ConnectionUpdateSecretOk{}))
		return nil
	default:
		return newErr(codeCommandInvalid, "%s is not valid on channel 0 now", m.Name())
	}
}

// channelMethod handles a method on channel id.
func (c *conn) channelMethod(id uint16, m Method) error {
	ch := c.chans[id]
	if _, ok := m.(*ChannelOpen); ok {
		if ch != nil {
			return newErr(codeChannelError, "second 'channel.open' seen on channel %d", id)
		}
		if id > c.channelMax {
			return newErr(codeChannelError, "channel %d is above channel-max %d", id, c.channelMax)
		}
		c.chans[id] = newChannel(c, id)
		c.send(appendMethod(nil, id, &ChannelOpenOk{}))
		return nil
	}
	if ch == nil {
		return newErr(codeChannelError, "expected 'channel.open' on channel %d, got %s", id, m.Name())
	}
	if ch.closing {
		switch m.(type) {
		case *ChannelCloseOk:
			delete(c.chans, id)
		case *ChannelClose: // both sides closed at once: each close answers the other
			ch.send(&ChannelCloseOk{})
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
func (ch *channel) check(err error, m Method) error {
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
	ch.send(&ChannelClose{ReplyCode: ae.code, ReplyText: ae.text, ClassId: ae.class, MethodId: ae.meth})
	return nil
}

// handle runs one method of an open channel.
func (ch *channel) handle(m Method) error {
	switch m := m.(type) {
	case *ChannelClose:
		ch.teardown()
		delete(ch.c.chans, ch.id)
		ch.send(&ChannelCloseOk{})
		return nil
	case *ChannelFlow:
		ch.setFlow(m.Active)
		ch.send(&ChannelFlowOk{Active: m.Active})
		return nil
	case *ChannelFlowOk:
		return nil
	case *ExchangeDeclare:
		return ch.exchangeDeclare(m)
	case *ExchangeDelete:
		return ch.exchangeDelete(m)
	case *QueueDeclare:
		return ch.queueDeclare(m)
	case *QueueBind:
		return ch.queueBind(m)
	case *QueueUnbind:
		return ch.queueUnbind(m)
	case *QueuePurge:
		return ch.queuePurge(m)
	case *QueueDelete:
		return ch.queueDelete(m)
	case *BasicQos:
		return ch.basicQos(m)
	case *BasicConsume:
		return ch.basicConsume(m)
	case *BasicCancel:
		return ch.basicCancel(m)
	case *BasicPublish:
		return ch.basicPublish(m)
	case *BasicGet:
		return ch.basicGet(m)
	case *BasicAck:
		return ch.settleOrHold(m.DeliveryTag, m.Multiple, broker.Settlement{Outcome: broker.OutcomeAck})
	case *BasicNack:
		return ch.settleOrHold(m.DeliveryTag, m.Multiple, requeueOutcome(m.Requeue))
	case *BasicReject:
		return ch.settleOrHold(m.DeliveryTag, false, requeueOutcome(m.Requeue))
	case *BasicRecover:
		return ch.recover(m.Requeue, true)
	case *BasicRecoverAsync:
		return ch.recover(m.Requeue, false)
	case *ConfirmSelect:
		return ch.confirmSelect(m)
	case *TxSelect:
		return ch.txSelect()
	case *TxCommit:
		return ch.txCommit()
	case *TxRollback:
		return ch.txRollback()
	case *ExchangeBind:
		return ch.exchangeBind(m)
	case *ExchangeUnbind:
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
