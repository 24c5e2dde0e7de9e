package mqtt

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// sessionAckWait is the ack wait of a persistent session's groups: MQTT
// redelivers only on reconnect [MQTT-4.4.0-1], which the group does when
// the member leaves, so the timer only rescues a connection that stopped
// acknowledging.
const sessionAckWait = time.Hour

// activeSub is a subscription being delivered on a connection: live
// broadcast subscriptions, and group members for a shared subscription
// or for the streams a persistent session's filter overlaps.
type activeSub struct {
	spec    subSpec
	f       filter
	grouped map[string]bool // streams delivered through members
	live    []*broker.Subscription
	members []*broker.Member
	stop    chan struct{}
	wg      sync.WaitGroup
}

func (c *conn) handleSubscribe(pk *packets.Packet) error {
	if code := pk.SubscribeValidate(); code != packets.CodeSuccess {
		return &protoErr{code: code}
	}
	codes := make([]byte, len(pk.Filters))
	var retained []func()
	for i, f := range pk.Filters {
		if f.NoLocal && len(f.Filter) > 7 && f.Filter[:7] == "$share/" {
			return failf(packets.ErrProtocolViolationInvalidSharedNoLocal, "no local on %s", f.Filter) // [MQTT-3.8.3-4]
		}
		spec := subSpec{Filter: f.Filter, QoS: f.Qos, NoLocal: f.NoLocal, RAP: f.RetainAsPublished, SubID: f.Identifier}
		sub, existed, code := c.subscribe(spec)
		codes[i] = c.subackCode(code)
		if sub != nil && sub.f.share == "" && (f.RetainHandling == 0 || f.RetainHandling == 1 && !existed) {
			retained = append(retained, c.retainedFor(sub)) // taken before SUBACK: later ones come live
		}
	}
	c.queue(encode(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Suback}, ProtocolVersion: c.version, PacketID: pk.PacketID, ReasonCodes: codes}))
	c.sess.saveIfPersistent(c.s.sessions)
	for _, send := range retained {
		send()
	}
	return nil
}

// subackCode returns the version's SUBACK code: 3.1.1 has only 0x80 for
// a failure.
func (c *conn) subackCode(code packets.Code) byte {
	if c.version != 5 && code.Code >= 0x80 {
		return 0x80
	}
	return code.Code
}

// subscribe starts (or replaces) a subscription and returns it with
// whether it replaced one, and the granted QoS or the failure.
func (c *conn) subscribe(spec subSpec) (*activeSub, bool, packets.Code) {
	f, err := parseFilter(spec.Filter)
	if err != nil {
		c.s.log.Info("mqtt: subscribe refused", "client", c.clientID, "filter", spec.Filter, "err", err)
		return nil, false, packets.ErrTopicFilterInvalid
	}
	c.omu.Lock()
	old := c.subs[spec.Filter]
	delete(c.subs, spec.Filter)
	c.omu.Unlock()
	if old != nil {
		c.stopSub(old)
	}
	sub := &activeSub{spec: spec, f: f, grouped: map[string]bool{}, stop: make(chan struct{})}
	if err := c.startSub(sub); err != nil {
		c.s.log.Info("mqtt: subscribe failed", "client", c.clientID, "filter", spec.Filter, "err", err)
		c.stopSub(sub)
		delete(c.sess.subs, spec.Filter)
		return nil, old != nil, packets.Code{Code: packets.ErrImplementationSpecificError.Code, Reason: err.Error()}
	}
	c.omu.Lock()
	c.subs[spec.Filter] = sub
	c.omu.Unlock()
	c.sess.subs[spec.Filter] = spec
	return sub, old != nil, packets.QosCodes[spec.QoS]
}

// startSub joins or subscribes the sources of a subscription and starts
// their pumps.
func (c *conn) startSub(sub *activeSub) error {
	if sub.f.share != "" {
		return c.startShared(sub)
	}
	if c.sess.persistent() {
		for _, p := range sub.f.patterns {
			if err := c.joinGroups(sub, sessionGroup(c.clientID, p), p); err != nil {
				return err
			}
		}
	}
	for _, p := range sub.f.patterns {
		ls, err := c.s.b.Subscribe(p, broker.Start{Kind: broker.StartLatest}, 0)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", p, err)
		}
		sub.live = append(sub.live, ls)
		c.pump(sub, func() { c.pumpLive(sub, ls) })
	}
	return nil
}

// startShared joins group G on every stream the filter overlaps; with
// none, the subscription is refused.
func (c *conn) startShared(sub *activeSub) error {
	p := sub.f.patterns[0]
	if len(c.s.streamsFor(p)) == 0 {
		return fmt.Errorf("no stream captures %s: a shared subscription needs one", p)
	}
	return c.joinGroups(sub, sub.f.share, p)
}

// joinGroups creates (if needed) and joins group name with filter pattern
// on every stream the pattern overlaps.
func (c *conn) joinGroups(sub *activeSub, name, pattern string) error {
	for _, st := range c.s.streamsFor(pattern) {
		cfg := broker.GroupConfig{Name: name, Stream: st, Mode: broker.Shared, Filter: pattern, Start: broker.Start{Kind: broker.StartLatest}}
		if sub.f.share == "" {
			cfg.AckWait = sessionAckWait
		}
		if _, err := c.s.b.CreateGroup(cfg); err != nil && !errors.Is(err, broker.ErrGroupExists) {
			return fmt.Errorf("group %s on stream %s: %w", name, st, err)
		}
		m, err := c.s.b.Join(st, name, cap(c.tokens))
		if err != nil {
			return fmt.Errorf("join group %s on stream %s: %w", name, st, err)
		}
		sub.members = append(sub.members, m)
		sub.grouped[st] = true
		c.pump(sub, func() { c.pumpMember(sub, m) })
	}
	return nil
}

// dropSessionGroups deletes a persistent session's groups for a filter.
func (s *Server) dropSessionGroups(clientID, filterText string) {
	f, err := parseFilter(filterText)
	if err != nil || f.share != "" {
		return
	}
	for _, p := range f.patterns {
		name := sessionGroup(clientID, p)
		for _, st := range s.streamsFor(p) {
			if err := s.b.DeleteGroup(st, name); err != nil && !errors.Is(err, broker.ErrGroupNotFound) {
				s.log.Error("mqtt: cannot delete session group", "client", clientID, "group", name, "stream", st, "err", err)
			}
		}
	}
}

// pump runs fn as one of a subscription's delivery goroutines, once
// CONNACK is queued.
func (c *conn) pump(sub *activeSub, fn func()) {
	c.pumps.Add(1)
	sub.wg.Add(1)
	go func() {
		defer c.pumps.Done()
		defer sub.wg.Done()
		select {
		case <-c.ready:
			fn()
		case <-sub.stop:
		case <-c.ctx.Done():
		}
	}()
}

// stopSub stops a subscription's pumps, then leaves its groups (unacked
// messages go back to the group, to be delivered again) and closes its
// live subscriptions.
func (c *conn) stopSub(sub *activeSub) {
	close(sub.stop)
	sub.wg.Wait()
	for _, m := range sub.members {
		m.Leave()
	}
	for _, l := range sub.live {
		l.Close()
	}
}

func (c *conn) handleUnsubscribe(pk *packets.Packet) error {
	if code := pk.UnsubscribeValidate(); code != packets.CodeSuccess {
		return &protoErr{code: code}
	}
	codes := make([]byte, len(pk.Filters))
	for i, f := range pk.Filters {
		c.omu.Lock()
		sub := c.subs[f.Filter]
		delete(c.subs, f.Filter)
		c.omu.Unlock()
		if sub == nil {
			codes[i] = packets.CodeNoSubscriptionExisted.Code
			continue
		}
		c.stopSub(sub)
		delete(c.sess.subs, f.Filter)
		if c.sess.persistent() {
			c.s.dropSessionGroups(c.clientID, f.Filter)
		}
	}
	c.queue(encode(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsuback}, ProtocolVersion: c.version, PacketID: pk.PacketID, ReasonCodes: codes}))
	c.sess.saveIfPersistent(c.s.sessions)
	return nil
}

// resume restarts a present session's subscriptions on a new connection.
func (c *conn) resume() {
	for _, spec := range c.sess.subs {
		sub, _, code := c.subscribe(spec)
		if sub == nil {
			c.s.log.Warn("mqtt: session subscription not resumed", "client", c.clientID, "filter", spec.Filter, "reason", code.Reason)
		}
	}
}

// stopAll stops every subscription of the connection (at its end).
func (c *conn) stopAll() {
	c.omu.Lock()
	subs := c.subs
	c.subs = map[string]*activeSub{}
	c.omu.Unlock()
	for _, sub := range subs {
		c.stopSub(sub)
	}
}

// retainedFor takes the retained messages a new subscription matches
// and returns the function that sends them from a pump (it may wait for
// in-flight room).
func (c *conn) retainedFor(sub *activeSub) func() {
	msgs := c.s.retained.match(&sub.f)
	if len(msgs) == 0 {
		return func() {}
	}
	return func() {
		c.pump(sub, func() {
			for _, m := range msgs {
				if !c.deliver(sub, m, nil, true) {
					return
				}
			}
		})
	}
}
