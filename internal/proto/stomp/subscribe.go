package stomp

import (
	"errors"
	"strconv"
	"sync"

	"github.com/courier-mq/courier/internal/broker"
)

// ackMode is a subscription's ack header (spec "SUBSCRIBE ack Header").
type ackMode int

const (
	ackAuto       ackMode = iota
	ackClient             // an ACK settles every earlier message too
	ackIndividual         // client-individual: an ACK settles one message
)

func parseAckMode(v string) (ackMode, error) {
	switch v {
	case "", "auto":
		return ackAuto, nil
	case "client":
		return ackClient, nil
	case "client-individual":
		return ackIndividual, nil
	}
	return 0, protoErr("invalid ack mode", "ack %q: must be auto, client or client-individual", truncate([]byte(v)))
}

// subscription is one SUBSCRIBE: members of group q on every stream that
// has one (a queue), or a broadcast broker subscription. Each has a
// pump goroutine that turns deliveries into MESSAGE frames.
type subscription struct {
	c    *conn
	id   string // the client's
	num  uint64 // ours, the first part of message and ack ids
	mode ackMode
	dest dest

	members  []*broker.Member
	bsub     *broker.Subscription
	stop     chan struct{} // closed by halt
	haltOnce sync.Once
	pumps    sync.WaitGroup // the pump goroutines

	mu struct {
		sync.Mutex
		seq     uint64       // last message number
		pending []pendingMsg // client modes, queues: delivered, not settled, by seq
	}
}

// pendingMsg is a delivery waiting for its ACK or NACK.
type pendingMsg struct {
	seq uint64
	d   *broker.Delivery
}

// onSubscribe starts a subscription (spec "SUBSCRIBE").
func (c *conn) onSubscribe(f *Frame) error {
	ds, ok := f.Get(hdrDestination)
	if !ok {
		return protoErr("missing destination", "SUBSCRIBE needs a destination header")
	}
	id, ok := f.Get(hdrID)
	if !ok {
		if c.version != "1.0" {
			return protoErr("missing id", "SUBSCRIBE needs an id header")
		}
		id = ds // STOMP 1.0: the destination identifies the subscription
	}
	if c.subs[id] != nil {
		return protoErr("duplicate subscription", "subscription id %q is in use on this connection", truncate([]byte(id)))
	}
	if len(c.subs) >= c.s.opts.MaxSubscriptions {
		return protoErr("too many subscriptions", "a connection may hold at most %d subscriptions", c.s.opts.MaxSubscriptions)
	}
	mode, err := parseAckMode(f.Value(hdrAck))
	if err != nil {
		return err
	}
	d, err := parseDest(ds, true)
	if err != nil {
		return err
	}
	c.nextSub++
	s := &subscription{c: c, id: id, num: c.nextSub, mode: mode, dest: d, stop: make(chan struct{})}
	if d.queue != "" {
		err = c.joinQueue(s, f)
	} else {
		err = c.subscribeTopic(s)
	}
	if err != nil {
		return err
	}
	c.subs[id], c.subsByNum[s.num] = s, s
	return nil
}

// prefetch reads prefetch-count (RabbitMQ's name) or
// activemq.prefetchSize: the most unsettled messages of the
// subscription per stream. 0 means the group's limit.
func (c *conn) prefetch(f *Frame) (int, error) {
	v, ok := f.Get(hdrPrefetch)
	if !ok {
		v, ok = f.Get("activemq.prefetchSize")
	}
	if !ok {
		return c.s.opts.DefaultPrefetch, nil
	}
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return 0, protoErr("invalid prefetch-count", "prefetch-count %q must be an integer from 0 to 65535", truncate([]byte(v)))
	}
	return int(n), nil
}

// joinQueue joins group q on stream q and on every other stream with a
// group named q, and starts a pump for each member.
func (c *conn) joinQueue(s *subscription, f *Frame) error {
	n, err := c.prefetch(f)
	if err != nil {
		return err
	}
	if err := c.ensureQueue(s.dest.queue); err != nil {
		return err
	}
	for _, stream := range c.queueStreams(s.dest.queue) {
		m, err := c.s.b.Join(stream, s.dest.queue, n)
		if err != nil {
			for _, m := range s.members {
				m.Leave()
			}
			return protoErr("queue unavailable", "queue %s on stream %s: %v", s.dest.queue, stream, err)
		}
		s.members = append(s.members, m)
	}
	for _, m := range s.members {
		s.goPump(func() { s.pumpMember(m) })
	}
	return nil
}

// subscribeTopic starts a live broadcast subscription.
func (c *conn) subscribeTopic(s *subscription) error {
	bs, err := c.s.b.Subscribe(s.dest.subject, broker.Start{Kind: broker.StartLatest}, 0)
	if err != nil {
		return protoErr("subscribe failed", "%s: %v", s.dest.subject, err)
	}
	s.bsub = bs
	s.goPump(s.pumpTopic)
	return nil
}

func (s *subscription) goPump(fn func()) {
	s.pumps.Add(1)
	s.c.goSafe(func() {
		defer s.pumps.Done()
		fn()
	})
}

// halt stops the pumps: no more frames are queued.
func (s *subscription) halt() {
	s.haltOnce.Do(func() { close(s.stop) })
	s.pumps.Wait()
}

// end halts and leaves: the queue's unsettled messages go to the other
// members at once.
func (s *subscription) end() {
	s.halt()
	for _, m := range s.members {
		m.Leave()
	}
	if s.bsub != nil {
		s.bsub.Close()
	}
}

// stopped reports whether the subscription or its connection ended.
func (s *subscription) stopped() bool {
	select {
	case <-s.stop:
		return true
	case <-s.c.ctx.Done():
		return true
	default:
		return false
	}
}

// pumpMember sends a member's deliveries as they come.
func (s *subscription) pumpMember(m *broker.Member) {
	var ds []*broker.Delivery
	for {
		select {
		case <-m.Ready():
		case <-m.Done():
			if !s.stopped() {
				s.c.failAsync(protoErr("subscription ended", "queue %s: %v", s.dest.queue, m.Err()), "")
			}
			return
		case <-s.stop:
			return
		case <-s.c.ctx.Done():
			return
		}
		for {
			ds = m.Take(ds[:0], 64)
			if len(ds) == 0 {
				break
			}
			for _, d := range ds {
				if !s.deliver(&d.Message, d) {
					return
				}
			}
			clear(ds)
		}
	}
}

// pumpTopic sends a broadcast subscription's messages. A subscription
// the broker ends (a live subscriber too slow for its buffer) ends the
// connection with an ERROR.
func (s *subscription) pumpTopic() {
	for {
		select {
		case m := <-s.bsub.Messages():
			if !s.deliver(m, nil) {
				return
			}
		case <-s.bsub.Done():
			if s.stopped() {
				return
			}
			msg := "subscription ended"
			if errors.Is(s.bsub.Err(), broker.ErrSlowConsumer) {
				msg = "slow consumer"
			}
			s.c.failAsync(protoErr(msg, "%s: %v", s.dest.subject, s.bsub.Err()), "")
			return
		case <-s.stop:
			return
		case <-s.c.ctx.Done():
			return
		}
	}
}

// deliver queues m's MESSAGE frame; d is its group delivery, if any.
// It reports false once the subscription or connection ended.
func (s *subscription) deliver(m *broker.Message, d *broker.Delivery) bool {
	s.mu.Lock()
	s.mu.seq++
	seq := s.mu.seq
	if d != nil && s.mode != ackAuto {
		s.mu.pending = append(s.mu.pending, pendingMsg{seq: seq, d: d})
	}
	s.mu.Unlock()
	it := outItem{frame: s.messageFrame(m, seq, d != nil && d.Deliveries > 1)}
	if d != nil && s.mode == ackAuto {
		it.ack = d
	}
	return s.c.out.push(s.c.ctx, s.stop, it) == nil
}

// messageFrame encodes a MESSAGE: destination, message-id (also the
// ack id), subscription, ack (client modes), redelivered, reply-to, then
// the message's headers except those STOMP uses.
func (s *subscription) messageFrame(m *broker.Message, seq uint64, redelivered bool) []byte {
	w := frameBuilder{esc: s.c.esc, b: make([]byte, 0, 256+len(m.Payload))}
	w.start(cmdMessage)
	w.header(hdrDestination, s.dest.deliveryDest(m.Subject))
	id := strconv.FormatUint(s.num, 10) + "-" + strconv.FormatUint(seq, 10)
	w.header(hdrMessageID, id)
	w.header(hdrSubscription, s.id)
	if s.mode != ackAuto {
		w.header(hdrAck, id)
	}
	if redelivered {
		w.header(hdrRedelivered, "true")
	}
	if m.ReplyTo != "" {
		w.header(hdrReplyTo, prefixTopic+m.ReplyTo)
	}
	for _, h := range m.Headers {
		// mqtt-meta is the MQTT front-end's own (QoS, retain, publisher).
		if !outSkip(h.Key) && h.Key != "mqtt-meta" && representable(h.Key, w.esc, true) && representable(h.Value, w.esc, false) {
			w.headerBytes(h.Key, h.Value)
		}
	}
	return w.end(m.Payload)
}

// outSkip reports whether a message header would clash with a header
// the MESSAGE frame sets itself.
func outSkip(k string) bool {
	switch k {
	case hdrDestination, hdrMessageID, hdrSubscription, hdrAck, hdrContentLength,
		hdrRedelivered, hdrReplyTo, hdrReceipt, hdrReceiptID, hdrTransaction:
		return true
	}
	return k == ""
}

// onUnsubscribe ends a subscription (spec "UNSUBSCRIBE"); its unsettled
// queue messages go back to the queue.
func (c *conn) onUnsubscribe(f *Frame) error {
	id, ok := f.Get(hdrID)
	if !ok && c.version == "1.0" {
		id, ok = f.Get(hdrDestination)
	}
	if !ok {
		return protoErr("missing id", "UNSUBSCRIBE needs an id header")
	}
	s := c.subs[id]
	if s == nil {
		return protoErr("unknown subscription", "no subscription with id %q on this connection", truncate([]byte(id)))
	}
	delete(c.subs, id)
	delete(c.subsByNum, s.num)
	s.end()
	return nil
}

// endSubs ends every subscription when the connection closes.
func (c *conn) endSubs() {
	for id, s := range c.subs {
		s.end()
		delete(c.subs, id)
		delete(c.subsByNum, s.num)
	}
}
