package mqtt

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Headers that carry v5 properties any protocol may read.
const (
	hdrContentType = "content-type"
	hdrCorrelation = "correlation-id"
)

// inflight is a QoS 1 or 2 message sent to the client and not yet
// completed.
type inflight struct {
	del   *broker.Delivery // to settle on PUBACK/PUBREC; nil for live messages
	qos   byte
	rel   bool // PUBREC received, PUBREL sent, PUBCOMP awaited
	token bool // holds an in-flight token
}

// pumpLive delivers a live subscription's messages. Messages of a stream
// that a persistent session's group delivers are left to the group. A
// subscription ended by the broker (a slow consumer of subjects no stream
// captures) ends the connection.
func (c *conn) pumpLive(sub *activeSub, ls *broker.Subscription) {
	for {
		select {
		case m := <-ls.Messages():
			if m.Stream != "" && sub.grouped[m.Stream] {
				continue
			}
			if !c.deliver(sub, m, nil, false) {
				return
			}
		case <-ls.Done():
			c.s.log.Info("mqtt: subscription ended, closing connection", "client", c.clientID, "filter", sub.spec.Filter, "err", ls.Err())
			c.kick(endCode(ls.Err()))
			return
		case <-sub.stop:
			return
		case <-c.ctx.Done():
			return
		}
	}
}

// endCode is the DISCONNECT reason for a subscription the broker ended.
func endCode(err error) packets.Code {
	switch {
	case errors.Is(err, broker.ErrSlowConsumer):
		return packets.ErrQuotaExceeded
	case errors.Is(err, broker.ErrClosed):
		return packets.ErrServerShuttingDown
	}
	return packets.ErrImplementationSpecificError
}

// pumpMember delivers a group member's messages.
func (c *conn) pumpMember(sub *activeSub, m *broker.Member) {
	for {
		select {
		case d := <-m.C():
			if !c.deliver(sub, &d.Message, d, false) {
				d.Release()
				return
			}
		case <-m.Done():
			c.s.log.Warn("mqtt: group membership ended", "client", c.clientID, "filter", sub.spec.Filter, "err", m.Err())
			return
		case <-sub.stop:
			return
		case <-c.ctx.Done():
			return
		}
	}
}

// kick ends the connection from outside the reader with a reason code.
func (c *conn) kick(code packets.Code) {
	c.queueDisconnect(code)
	select {
	case c.out <- outFrame{close: true}:
	case <-c.ctx.Done():
	}
}

// deliver sends one message to the client at min(publisher's QoS,
// subscription's QoS). It returns false when the message was not queued
// because the connection or the subscription ended first (a group
// delivery is then given back uncounted); once queued, the message counts
// as sent. A message the client would not want (no local, expired,
// larger than its maximum packet size) is skipped and settled.
func (c *conn) deliver(sub *activeSub, m *broker.Message, d *broker.Delivery, retained bool) bool {
	pm := publishedAs(m)
	if !sub.f.matches(m.Subject) || c.skip(sub, m, pm) {
		settle(d)
		return true
	}
	qos := min(sub.spec.QoS, pm.qos)
	pk := c.publishPacket(sub, m, pm, qos, retained, d != nil && d.Deliveries > 1)
	if qos == 0 {
		if b := c.fit(pk); b != nil && !c.queue(b) {
			return false
		}
		settle(d)
		return true
	}
	select {
	case c.tokens <- struct{}{}:
	case <-sub.stop:
		return false
	case <-c.ctx.Done():
		return false
	}
	c.omu.Lock()
	pk.PacketID = c.allocID(&inflight{del: d, qos: qos, token: true})
	c.omu.Unlock()
	b := c.fit(pk)
	if b == nil { // acts as if sent and acknowledged [MQTT-3.1.2-25]
		c.complete(pk.PacketID)
		settle(d)
		return true
	}
	if !c.queue(b) {
		c.complete(pk.PacketID)
		return false
	}
	return true
}

func settle(d *broker.Delivery) {
	if d != nil {
		d.Ack()
	}
}

// skip reports whether no local or expiry keeps a message from the client.
func (c *conn) skip(sub *activeSub, m *broker.Message, pm pubMeta) bool {
	if sub.spec.NoLocal && pm.client != "" && pm.client == c.clientID {
		return true
	}
	_, expired := remainingTTL(m)
	return expired
}

// remainingTTL returns how long a message has left to live (0: no
// expiry) and whether it has expired.
func remainingTTL(m *broker.Message) (time.Duration, bool) {
	if v, ok := m.Header(hdrExpires); ok {
		exp, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			left := time.Until(time.UnixMilli(exp))
			return left, left <= 0
		}
	}
	if m.TTL <= 0 {
		return 0, false
	}
	left := m.TTL - time.Since(m.Time)
	return left, left <= 0
}

// publishedAs returns how a message was published: over MQTT, as its
// hdrMeta says; from other protocols, as QoS 2 (they are delivered at the
// subscription's QoS) by no MQTT client.
func publishedAs(m *broker.Message) pubMeta {
	if pm, ok := metaOf(m); ok {
		return pm
	}
	return pubMeta{qos: 2}
}

// publishPacket builds the PUBLISH for a message.
func (c *conn) publishPacket(sub *activeSub, m *broker.Message, pm pubMeta, qos byte, retained, dup bool) *packets.Packet {
	pk := &packets.Packet{ProtocolVersion: c.version, TopicName: subjectToTopic(m.Subject), Payload: m.Payload}
	pk.FixedHeader = packets.FixedHeader{Type: packets.Publish, Qos: qos, Dup: dup && qos > 0}
	if retained || sub.spec.RAP && pm.retain {
		pk.FixedHeader.Retain = true // [MQTT-3.3.1-8] [MQTT-3.3.1-12] [MQTT-3.3.1-13]
	}
	if c.version == 5 {
		pk.Mods.AllowResponseInfo = true
		c.setProperties(&pk.Properties, m, pm)
		if sub.spec.SubID > 0 {
			pk.Properties.SubscriptionIdentifier = []int{sub.spec.SubID}
		}
	}
	return pk
}

// setProperties maps a message's fields and headers to v5 properties.
func (c *conn) setProperties(p *packets.Properties, m *broker.Message, pm pubMeta) {
	if m.ReplyTo != "" {
		p.ResponseTopic = subjectToTopic(m.ReplyTo)
	}
	if pm.utf8 {
		p.PayloadFormat, p.PayloadFormatFlag = 1, true
	}
	if left, _ := remainingTTL(m); left > 0 {
		p.MessageExpiryInterval = uint32((left + time.Second - 1) / time.Second)
	}
	for _, h := range m.Headers {
		switch h.Key {
		case hdrContentType:
			if utf8.Valid(h.Value) {
				p.ContentType = string(h.Value)
			}
		case hdrCorrelation:
			p.CorrelationData = h.Value
		default:
			if !frontEndHeader(h.Key) && !strings.HasPrefix(h.Key, broker.HeaderPrefix) && utf8.ValidString(h.Key) && utf8.Valid(h.Value) {
				p.User = append(p.User, packets.UserProperty{Key: h.Key, Val: string(h.Value)})
			}
		}
	}
}

// fit encodes a packet, or returns nil when it exceeds the client's
// maximum packet size.
func (c *conn) fit(pk *packets.Packet) []byte {
	b := encode(pk)
	if c.maxOut > 0 && uint32(len(b)) > c.maxOut {
		c.s.log.Debug("mqtt: message larger than the client's maximum packet size, skipped", "client", c.clientID, "bytes", len(b))
		return nil
	}
	return b
}

// allocID takes a free packet id for f. Caller holds omu.
func (c *conn) allocID(f *inflight) uint16 {
	for range 65536 {
		c.nextID++
		if c.nextID == 0 {
			c.nextID = 1
		}
		if c.fly[c.nextID] == nil {
			c.fly[c.nextID] = f
			return c.nextID
		}
	}
	panic("mqtt: no free packet id") // impossible: tokens bound fly below 65535
}

// complete forgets an in-flight message and frees its token.
func (c *conn) complete(id uint16) *inflight {
	c.omu.Lock()
	f := c.fly[id]
	delete(c.fly, id)
	c.omu.Unlock()
	if f != nil && f.token {
		<-c.tokens
	}
	return f
}

// onPuback completes a QoS 1 message.
func (c *conn) onPuback(id uint16) {
	c.omu.Lock()
	f := c.fly[id]
	c.omu.Unlock()
	if f == nil || f.qos != 1 {
		return
	}
	c.complete(id)
	settle(f.del)
}

// onPubrec moves a QoS 2 message to its second half: the message is the
// client's now, so the delivery is settled, and PUBREL goes out.
func (c *conn) onPubrec(pk *packets.Packet) {
	id := pk.PacketID
	c.omu.Lock()
	f := c.fly[id]
	ok := f != nil && f.qos == 2
	if ok && c.version == 5 && pk.ReasonCode >= 0x80 {
		ok = false // refused by the client: done [MQTT-4.3.3-7]
	} else if ok {
		f.rel = true
	}
	c.omu.Unlock()
	switch {
	case f == nil || f.qos != 2:
		c.queue(c.ack(packets.Pubrel, id, packets.ErrPacketIdentifierNotFound, ""))
	case !ok:
		c.complete(id)
		settle(f.del)
	default:
		settle(f.del)
		c.queue(c.ack(packets.Pubrel, id, packets.CodeSuccess, ""))
	}
}

// onPubcomp completes a QoS 2 message.
func (c *conn) onPubcomp(id uint16) {
	c.omu.Lock()
	f := c.fly[id]
	c.omu.Unlock()
	if f != nil && f.rel {
		c.complete(id)
	}
}
