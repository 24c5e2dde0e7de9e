package amqp

import (
	"crypto/rand"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// consumer is one basic.consume: a member of group q on every stream
// that has one. Its pump takes deliveries from the members while it has
// credit (prefetch minus unacknowledged) and queues them to the writer.
type consumer struct {
	ch        *channel
	tag       string
	queue     string
	noAck     bool
	exclusive bool
	prefetch  int // 0: no limit beyond the group's max in flight

	wake chan struct{} // capacity 1: a member is ready, or credit came back
	stop chan struct{}
	done chan struct{}
	fwd  sync.WaitGroup // the members' forwarders

	sendMu  sync.Mutex // held from the cancelled check to the queueing of a delivery
	mu      sync.Mutex
	members map[string]*broker.Member // by stream
	stopped bool

	// Under ch.mu.
	outstanding int
	cancelled   bool // basic.cancel seen: no more deliveries
}

// takeBatch bounds one Take when the credit is unlimited.
const takeBatch = 64

func (ch *channel) basicQos(m *basicQos) error {
	if m.PrefetchSize != 0 {
		return newErr(codeNotImplemented, "prefetch_size!=0 (%d)", m.PrefetchSize)
	}
	if !m.Global {
		ch.prefetch = int(m.PrefetchCount) // for consumers started from now
		ch.send(&basicQosOk{})
		return nil
	}
	ch.mu.Lock()
	ch.global = int(m.PrefetchCount) // shared by the channel's consumers, now
	ch.mu.Unlock()
	ch.pokeAll()
	ch.send(&basicQosOk{})
	return nil
}

// pokeAll wakes every consumer of the channel.
func (ch *channel) pokeAll() {
	ch.mu.Lock()
	cons := make([]*consumer, 0, len(ch.consumers))
	for _, cs := range ch.consumers {
		cons = append(cons, cs)
	}
	ch.mu.Unlock()
	for _, cs := range cons {
		cs.poke()
	}
}

func (ch *channel) basicConsume(m *basicConsume) error {
	s := ch.c.s
	if err := s.queueExists(m.Queue); err != nil {
		return err
	}
	if err := ch.checkOwner(m.Queue); err != nil {
		return err
	}
	tag := m.ConsumerTag
	if tag == "" {
		tag = "amq.ctag-" + rand.Text()
	}
	ch.mu.Lock()
	_, dup := ch.consumers[tag]
	ch.mu.Unlock()
	if dup {
		return newErr(codeNotAllowed, "attempt to reuse consumer tag '%s'", tag)
	}
	cs := &consumer{ch: ch, tag: tag, queue: m.Queue, noAck: m.NoAck, exclusive: m.Exclusive, prefetch: ch.prefetch,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), members: map[string]*broker.Member{}}
	if !s.reg.addConsumer(m.Queue, cs, m.Exclusive) {
		return newErr(codeAccessRefused, "queue '%s' in vhost '/' in exclusive use", m.Queue)
	}
	for _, g := range s.queueGroups(m.Queue) {
		if err := cs.join(g.Config.Stream); err != nil {
			close(cs.done) // no pump was started
			cs.end()
			return err
		}
	}
	ch.mu.Lock()
	ch.consumers[tag] = cs
	ch.mu.Unlock()
	if !m.NoWait {
		ch.send(&basicConsumeOk{ConsumerTag: tag})
	}
	ch.c.wg.Add(1)
	go cs.run()
	return nil
}

// join makes the consumer a member of group q on a stream.
func (cs *consumer) join(stream string) error {
	mem, err := cs.ch.c.s.b.Join(stream, cs.queue, cs.prefetch)
	if err != nil {
		return brokerErr(err, "consume from queue '%s'", cs.queue)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if old := cs.members[stream]; cs.stopped || (old != nil && !ended(old)) {
		mem.Leave()
		return nil
	}
	cs.members[stream] = mem
	cs.fwd.Add(1)
	go func() {
		defer cs.fwd.Done()
		for {
			select {
			case <-mem.Ready():
				cs.poke()
			case <-mem.Done():
				cs.poke()
				return
			case <-cs.stop:
				return
			}
		}
	}()
	cs.poke()
	return nil
}

// ended reports whether a member is over (its group was deleted: an
// unbind or a queue.delete).
func ended(m *broker.Member) bool {
	select {
	case <-m.Done():
		return true
	default:
		return false
	}
}

func (cs *consumer) poke() {
	select {
	case cs.wake <- struct{}{}:
	default:
	}
}

// end stops the pump, leaves every member (their unacknowledged
// deliveries go back to the queue) and counts the consumer out. Safe to
// call more than once.
func (cs *consumer) end() {
	cs.mu.Lock()
	if cs.stopped {
		cs.mu.Unlock()
		return
	}
	cs.stopped = true
	close(cs.stop)
	members := cs.members
	cs.members = nil
	cs.mu.Unlock()
	<-cs.done // never called from the pump itself
	cs.fwd.Wait()
	for _, m := range members {
		m.Leave()
	}
	s := cs.ch.c.s
	if s.reg.removeConsumer(cs.queue, cs, cs.exclusive) {
		if err := s.deleteQueue(cs.queue); err != nil {
			s.log.Warn("amqp: deleting an auto-delete queue", "queue", cs.queue, "err", err)
		}
	}
}

func (cs *consumer) run() {
	defer cs.ch.c.wg.Done()
	defer close(cs.done)
	defer cs.ch.c.recoverConn("consumer")
	var buf []*broker.Delivery
	for {
		if !cs.pump(&buf) {
			return
		}
		select {
		case <-cs.wake:
		case <-cs.stop:
			return
		case <-cs.ch.c.ctx.Done():
			return
		}
	}
}

// pump delivers while there is credit and something to take; false when
// the consumer is over (its members are all gone: the server cancels it).
func (cs *consumer) pump(buf *[]*broker.Delivery) bool {
	for {
		live, took := 0, 0
		for _, mem := range cs.memberList() {
			if ended(mem) {
				continue
			}
			live++
			credit := cs.credit()
			if credit == 0 {
				return true
			}
			*buf = mem.Take((*buf)[:0], credit)
			ok := true
			for i, d := range *buf {
				(*buf)[i] = nil
				if ok && !cs.deliver(d) {
					ok = false
				}
			}
			cs.release(credit)
			if !ok {
				return false
			}
			took += len(*buf)
		}
		if live == 0 {
			cs.serverCancel()
			return false
		}
		if took == 0 {
			return true
		}
	}
}

func (cs *consumer) memberList() []*broker.Member {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make([]*broker.Member, 0, len(cs.members))
	for _, m := range cs.members {
		out = append(out, m)
	}
	return out
}

// credit is how many deliveries the consumer may take now: the least of
// its own prefetch left and the channel's (basic.qos global), which it
// reserves until release, so that consumers sharing the channel's
// prefetch never take more than it together.
func (cs *consumer) credit() int {
	ch := cs.ch
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.paused || cs.cancelled {
		return 0
	}
	if cs.noAck {
		return takeBatch
	}
	n := takeBatch
	if cs.prefetch > 0 {
		n = max(cs.prefetch-cs.outstanding, 0)
	}
	if ch.global > 0 {
		n = min(n, max(ch.global-len(ch.unacked)-ch.reserved, 0))
	}
	ch.reserved += n
	return n
}

// release gives back a credit reservation; what was delivered is counted
// in unacked by now.
func (cs *consumer) release(n int) {
	if cs.noAck {
		return
	}
	cs.ch.mu.Lock()
	cs.ch.reserved -= n
	cs.ch.mu.Unlock()
}

// deliver sends one delivery as basic.deliver; false when the connection
// is gone.
func (cs *consumer) deliver(d *broker.Delivery) bool {
	ch := cs.ch
	cs.sendMu.Lock()
	defer cs.sendMu.Unlock()
	ch.mu.Lock()
	if cs.cancelled {
		ch.mu.Unlock()
		d.Release()
		return true
	}
	ch.nextTag++
	tag := ch.nextTag
	if !cs.noAck {
		ch.unacked[tag] = &unacked{d: d, cons: cs}
		cs.outstanding++
	}
	ch.mu.Unlock()
	ex, key := ch.c.s.origin(&d.Message)
	m := &basicDeliver{ConsumerTag: cs.tag, DeliveryTag: tag, Redelivered: d.Deliveries > 1, Exchange: ex, RoutingKey: key}
	props := fromMessage(&d.Message)
	if !ch.c.send(appendContent(nil, ch.id, m, &props, d.Payload, ch.c.frameMax.Load())) {
		return false
	}
	if cs.noAck {
		d.Ack()
	}
	return true
}

// serverCancel tells the client that the queue went away (RabbitMQ's
// consumer cancel notification).
func (cs *consumer) serverCancel() {
	ch := cs.ch
	ch.mu.Lock()
	own := ch.consumers[cs.tag] == cs
	if own {
		delete(ch.consumers, cs.tag)
	}
	ch.mu.Unlock()
	if own {
		ch.send(&basicCancel{ConsumerTag: cs.tag, NoWait: true})
		ch.c.wg.Add(1)                                 // the pump holds one, so Wait has not returned
		go func() { defer ch.c.wg.Done(); cs.end() }() // end waits for the pump
	}
}

func (ch *channel) basicCancel(m *basicCancel) error {
	ch.mu.Lock()
	cs := ch.consumers[m.ConsumerTag]
	ch.mu.Unlock()
	if cs != nil {
		cs.sendMu.Lock() // no delivery is on its way once cancel-ok is
		ch.mu.Lock()
		cs.cancelled = true
		delete(ch.consumers, m.ConsumerTag)
		idle := cs.outstanding == 0
		if !idle {
			// It ends once its deliveries are settled, or with the channel.
			ch.consumers[cancelledKey(cs.tag)] = cs
		}
		ch.mu.Unlock()
		cs.sendMu.Unlock()
		if idle {
			cs.end()
		}
	}
	return ch.ok(m.NoWait, &basicCancelOk{ConsumerTag: m.ConsumerTag})
}

// cancelledKey keeps a cancelled consumer with unsettled deliveries among
// the channel's consumers (so the channel's teardown ends it) under a key
// no client tag can be.
func cancelledKey(tag string) string { return "\x00cancelled:" + tag }

func requeueOutcome(requeue bool) broker.Settlement {
	if requeue {
		return broker.Settlement{Outcome: broker.OutcomeNack}
	}
	return broker.Settlement{Outcome: broker.OutcomeReject}
}

// settle applies an ack, nack or reject to one delivery tag, or with
// multiple to every unacknowledged tag up to it (0: all).
func (ch *channel) settle(tag uint64, multiple bool, st broker.Settlement) error {
	ch.mu.Lock()
	var tags []uint64
	if multiple {
		for t := range ch.unacked {
			if tag == 0 || t <= tag {
				tags = append(tags, t)
			}
		}
	} else if ch.unacked[tag] != nil {
		tags = []uint64{tag}
	} else {
		ch.mu.Unlock()
		return newErr(codePreconditionFailed, "unknown delivery tag %d", tag)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	ds := make([]*broker.Delivery, len(tags))
	touched := map[*consumer]bool{}
	for i, t := range tags {
		u := ch.unacked[t]
		delete(ch.unacked, t)
		ds[i] = u.d
		if u.cons != nil {
			u.cons.outstanding--
			touched[u.cons] = u.cons.cancelled && u.cons.outstanding == 0
		}
	}
	ch.mu.Unlock()
	for i, err := range broker.SettleAll(ds, st) {
		if err != nil && !errors.Is(err, broker.ErrAlreadySettled) && !errors.Is(err, broker.ErrMemberLeft) {
			ch.c.s.log.Debug("amqp: settle", "tag", tags[i], "err", err)
		}
	}
	if ch.sharedPrefetch() {
		ch.pokeAll()
	}
	for cs, finished := range touched {
		if finished {
			ch.mu.Lock()
			delete(ch.consumers, cancelledKey(cs.tag))
			ch.mu.Unlock()
			cs.end()
		} else {
			cs.poke()
		}
	}
	return nil
}

func (ch *channel) sharedPrefetch() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.global > 0
}

// recover gives every unacknowledged delivery of the channel back to its
// queue (basic.recover with requeue; RabbitMQ does not support requeue
// false either).
func (ch *channel) recover(requeue, reply bool) error {
	if !requeue {
		return newErr(codeNotImplemented, "basic.recover with requeue=false")
	}
	if err := ch.settle(0, true, broker.Settlement{Outcome: broker.OutcomeNack}); err != nil {
		return err
	}
	if reply {
		ch.send(&basicRecoverOk{})
	}
	return nil
}

// getWait bounds how long basic.get waits for a message the group has but
// has not read from the log yet.
const getWait = 200 * time.Millisecond

func (ch *channel) basicGet(m *basicGet) error {
	s := ch.c.s
	if err := s.queueExists(m.Queue); err != nil {
		return err
	}
	if err := ch.checkOwner(m.Queue); err != nil {
		return err
	}
	for _, g := range s.queueGroups(m.Queue) {
		d, err := ch.getFrom(g)
		if err != nil {
			return err
		}
		if d == nil {
			continue
		}
		ch.mu.Lock()
		ch.nextTag++
		tag := ch.nextTag
		if !m.NoAck {
			ch.unacked[tag] = &unacked{d: d}
		}
		ch.mu.Unlock()
		msgs, _ := s.queueCounts(m.Queue)
		ex, key := s.origin(&d.Message)
		ok := &basicGetOk{DeliveryTag: tag, Redelivered: d.Deliveries > 1, Exchange: ex, RoutingKey: key, MessageCount: msgs}
		props := fromMessage(&d.Message)
		ch.c.send(appendContent(nil, ch.id, ok, &props, d.Payload, ch.c.frameMax.Load()))
		if m.NoAck {
			d.Ack()
		}
		return nil
	}
	ch.send(&basicGetEmpty{})
	return nil
}

// getFrom takes one delivery from a group through the channel's pull
// member on its stream.
func (ch *channel) getFrom(g broker.GroupInfo) (*broker.Delivery, error) {
	st := g.Config.Stream
	mem := ch.getters[st]
	if mem != nil && ended(mem) { // its group was deleted since, maybe made again
		mem = nil
	}
	if mem == nil {
		var err error
		if mem, err = ch.c.s.b.JoinPull(st, g.Config.Name); err != nil {
			return nil, brokerErr(err, "basic.get from queue '%s'", g.Config.Name)
		}
		ch.getters[st] = mem
	}
	defer mem.Want(0)
	mem.Want(1)
	if ds := mem.Take(nil, 1); len(ds) > 0 {
		return ds[0], nil
	}
	if g.Lag-int64(g.InFlight) <= 0 {
		return nil, nil
	}
	t := time.NewTimer(getWait)
	defer t.Stop()
	for {
		select {
		case <-mem.Ready():
			if ds := mem.Take(nil, 1); len(ds) > 0 {
				return ds[0], nil
			}
		case <-t.C:
			return nil, nil
		case <-mem.Done():
			return nil, nil
		}
	}
}
