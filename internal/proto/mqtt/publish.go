package mqtt

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// handlePublish serves an inbound PUBLISH: QoS 0 is published and
// forgotten; QoS 1 is answered with PUBACK once the broker has it durably
// (when a stream captures the subject); QoS 2 with PUBREC likewise, and a
// packet id already received and not yet released is answered again
// without publishing twice [MQTT-4.3.3-9].
func (c *conn) handlePublish(pk *packets.Packet) error {
	if err := c.resolveAlias(pk); err != nil {
		return err
	}
	if code := pk.PublishValidate(uint16(c.s.opts.TopicAliasMax)); code != packets.CodeSuccess {
		return &protoErr{code: code, err: errors.New(pk.TopicName)}
	}
	qos, id := pk.FixedHeader.Qos, pk.PacketID
	if qos == 2 && c.sess.hasQoS2(id) {
		c.queue(c.ack(packets.Pubrec, id, packets.CodeSuccess, ""))
		return nil
	}
	if qos > 0 && c.version == 5 && c.inPending.Load() >= receiveMaximum {
		return failf(packets.ErrReceiveMaximum, "more than %d QoS 1 and 2 publishes unacknowledged", receiveMaximum) // [MQTT-3.3.4-7]
	}
	m, code, detail := c.toMessage(pk)
	var wait func(context.Context) error
	if code == packets.CodeSuccess {
		var err error
		if wait, err = c.s.publish(m, pk.FixedHeader.Retain, pk.TopicName); err != nil {
			code, detail = publishCode(err), err.Error()
		}
	}
	if code != packets.CodeSuccess {
		return c.refusePublish(qos, id, code, detail)
	}
	switch qos {
	case 1:
		c.inPending.Add(1)
		c.queueAwait(c.awaitAck(packets.Puback, id, wait, nil))
	case 2:
		c.inPending.Add(1) // until PUBREL
		c.sess.setQoS2(id, true)
		c.queueAwait(c.awaitAck(packets.Pubrec, id, wait, func() { c.sess.setQoS2(id, false); c.inPending.Add(-1) }))
	}
	return nil
}

// refusePublish answers a publish that was not accepted: v5 with the
// reason code in PUBACK or PUBREC, a QoS 0 one by dropping it; 3.1.1 has
// no negative acknowledgement, so the connection closes.
func (c *conn) refusePublish(qos byte, id uint16, code packets.Code, detail string) error {
	c.s.log.Info("mqtt: publish refused", "client", c.clientID, "reason", code.Reason, "detail", detail)
	switch {
	case qos == 0:
		return nil
	case c.version != 5:
		return failf(code, "%s", detail)
	case qos == 1:
		c.queue(c.ack(packets.Puback, id, code, detail))
	default:
		c.queue(c.ack(packets.Pubrec, id, code, detail))
	}
	return nil
}

// awaitAck returns the writer's wait for a publish's acknowledgement.
func (c *conn) awaitAck(typ byte, id uint16, wait func(context.Context) error, failed func()) func() ([]byte, error) {
	return func() ([]byte, error) {
		err := wait(c.ctx)
		if typ == packets.Puback {
			c.inPending.Add(-1)
		}
		if err == nil {
			return c.ack(typ, id, packets.CodeSuccess, ""), nil
		}
		if failed != nil {
			failed()
		}
		if c.version != 5 || c.ctx.Err() != nil {
			return nil, err
		}
		return c.ack(typ, id, publishCode(err), err.Error()), nil
	}
}

// handlePubrel releases a QoS 2 packet id and answers PUBCOMP.
func (c *conn) handlePubrel(pk *packets.Packet) {
	code := packets.CodeSuccess
	if !c.sess.hasQoS2(pk.PacketID) {
		code = packets.ErrPacketIdentifierNotFound
	} else if c.inPending.Load() > 0 { // may have come from an earlier connection
		c.inPending.Add(-1)
	}
	c.sess.setQoS2(pk.PacketID, false)
	c.queue(c.ack(packets.Pubcomp, pk.PacketID, code, ""))
}

func (ss *session) hasQoS2(id uint16) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.qos2in[id]
}

func (ss *session) setQoS2(id uint16, on bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if on {
		ss.qos2in[id] = true
	} else {
		delete(ss.qos2in, id)
	}
}

// resolveAlias applies a v5 topic alias [MQTT-3.3.2-12].
func (c *conn) resolveAlias(pk *packets.Packet) error {
	if !pk.Properties.TopicAliasFlag {
		return nil
	}
	a := pk.Properties.TopicAlias
	if a == 0 || int(a) > c.s.opts.TopicAliasMax {
		return failf(packets.ErrTopicAliasInvalid, "topic alias %d, maximum %d", a, c.s.opts.TopicAliasMax)
	}
	if pk.TopicName != "" {
		c.aliases[a] = pk.TopicName
		return nil
	}
	t, ok := c.aliases[a]
	if !ok {
		return failf(packets.ErrProtocolViolation, "topic alias %d was never set", a)
	}
	pk.TopicName = t
	return nil
}

// toMessage maps a PUBLISH (or a will) to a broker message.
func (c *conn) toMessage(pk *packets.Packet) (*broker.Message, packets.Code, string) {
	subj, err := topicToSubject(pk.TopicName)
	if err != nil {
		return nil, packets.ErrTopicNameInvalid, err.Error()
	}
	m := &broker.Message{Subject: subj, Payload: pk.Payload}
	pm := pubMeta{qos: pk.FixedHeader.Qos, retain: pk.FixedHeader.Retain, client: c.clientID}
	pm.utf8 = c.version == 5 && pk.Properties.PayloadFormatFlag && pk.Properties.PayloadFormat == 1
	m.Headers = append(m.Headers, pm.header())
	if c.version != 5 {
		return m, packets.CodeSuccess, ""
	}
	code, detail := propsToMessage(&pk.Properties, m)
	return m, code, detail
}

// propsToMessage maps v5 publish (or will) properties onto m.
func propsToMessage(p *packets.Properties, m *broker.Message) (packets.Code, string) {
	if p.PayloadFormatFlag && p.PayloadFormat == 1 {
		if !utf8.Valid(m.Payload) {
			return packets.ErrPayloadFormatInvalid, "payload format indicator says UTF-8" // [MQTT-3.3.2-4]
		}
	}
	if p.ContentType != "" {
		m.Headers = append(m.Headers, broker.Header{Key: hdrContentType, Value: []byte(p.ContentType)})
	}
	if len(p.CorrelationData) > 0 {
		m.Headers = append(m.Headers, broker.Header{Key: hdrCorrelation, Value: p.CorrelationData})
	}
	for _, u := range p.User {
		m.Headers = append(m.Headers, broker.Header{Key: u.Key, Value: []byte(u.Val)})
	}
	if p.ResponseTopic != "" {
		rs, err := mapLevels(p.ResponseTopic, false)
		if err != nil {
			return packets.ErrTopicNameInvalid, "response topic: " + err.Error()
		}
		m.ReplyTo = rs
	}
	if p.MessageExpiryInterval > 0 {
		m.TTL = time.Duration(p.MessageExpiryInterval) * time.Second
	}
	return packets.CodeSuccess, ""
}

// publish publishes m (and, with retain, stores it as the topic's
// retained message) and returns a wait for durability.
func (s *Server) publish(m *broker.Message, retain bool, topic string) (func(context.Context) error, error) {
	var rwait func(context.Context) error
	if retain {
		var err error
		if rwait, err = s.retained.set(topic, m); err != nil {
			return nil, err
		}
	}
	wait, err := s.b.PublishAsync(m, broker.Expect{})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if rwait != nil {
			if err := rwait(ctx); err != nil {
				return err
			}
		}
		_, err := wait(ctx)
		return err
	}, nil
}

// publishCode maps a broker error to a PUBACK/PUBREC reason code.
func publishCode(err error) packets.Code {
	switch {
	case errors.Is(err, broker.ErrTooLarge), errors.Is(err, broker.ErrStreamFull), errors.Is(err, broker.ErrTooManyHeaders):
		return packets.ErrQuotaExceeded
	case errors.Is(err, broker.ErrInvalid), errors.Is(err, broker.ErrReservedHeader):
		return packets.ErrImplementationSpecificError
	}
	return packets.ErrUnspecifiedError
}
