package mqtt

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// will is a connection's will message, ready to publish. A will waiting
// for its delay is saved in its session's record (Due set), so that a
// restart publishes it when due.
type will struct {
	Topic  string         `json:"topic"`
	Retain bool           `json:"retain,omitempty"`
	Msg    broker.Message `json:"msg"`
	Due    int64          `json:"due,omitempty"` // Unix ms
	delay  time.Duration
}

// handleConnect serves CONNECT: it checks the protocol, the credentials,
// the client id and the will, takes the session (over from another
// connection if needed), resumes its subscriptions and answers CONNACK.
func (c *conn) handleConnect(pk *packets.Packet) error {
	if err := c.checkConnect(pk); err != nil {
		return err
	}
	id, assigned, err := c.clientIDOf(pk)
	if err != nil {
		return err
	}
	c.clientID = id
	if pk.Connect.WillFlag {
		if err := c.setWill(pk); err != nil {
			return err
		}
	}
	c.keepAlive = time.Duration(pk.Connect.Keepalive) * time.Second
	inflight := c.s.opts.MaxInflight
	if c.version == 5 && pk.Properties.ReceiveMaximum > 0 {
		inflight = min(inflight, int(pk.Properties.ReceiveMaximum))
	}
	c.tokens = make(chan struct{}, inflight)
	sess, present := c.s.sessions.attach(c, id, pk.Connect.Clean, c.sessionExpiry(pk))
	c.sess = sess
	ack := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ProtocolVersion: c.version, SessionPresent: present}
	if c.version == 5 {
		c.connackProps(&ack.Properties, id, assigned)
	}
	c.connected = true
	c.resume() // before CONNACK, so nothing published after it is missed; the pumps wait for ready
	c.queue(encode(ack))
	close(c.ready)
	c.resendPubrel()
	return nil
}

// checkConnect checks the protocol name and level, the flags, the v5
// properties and the credentials.
func (c *conn) checkConnect(pk *packets.Packet) error {
	if v := pk.ProtocolVersion; !bytes.Equal(pk.Connect.ProtocolName, []byte("MQTT")) || v != 4 && v != 5 {
		if bytes.Equal(pk.Connect.ProtocolName, []byte("MQTT")) || bytes.Equal(pk.Connect.ProtocolName, []byte("MQIsdp")) {
			c.version = 4 // [MQTT-3.1.2-2]: answer 0x01 in the 3.1.1 format
			c.queue(encodeConnack(c, packets.Err3UnsupportedProtocolVersion, false))
		}
		return failf(packets.ErrUnsupportedProtocolVersion, "protocol %q level %d: only MQTT 3.1.1 (4) and 5 are served", pk.Connect.ProtocolName, v)
	}
	c.version = pk.ProtocolVersion
	if code := validateConnect(pk); code != packets.CodeSuccess {
		return &protoErr{code: code}
	}
	if c.version == 5 {
		if err := c.connectProps(&pk.Properties); err != nil {
			return err
		}
	}
	if !c.s.authenticate(pk) {
		if c.version == 4 { // v5 gets its CONNACK from fail
			c.queue(encodeConnack(c, packets.ErrMalformedUsernameOrPassword, false)) // 3.1.1 return code 4: bad user name or password
		}
		return failf(packets.ErrBadUsernameOrPassword, "user %q", pk.Connect.Username)
	}
	return nil
}

// clientIDOf returns the client id, assigning one to a client that sent
// none [MQTT-3.1.3-6], except a 3.1.1 client without clean session
// [MQTT-3.1.3-8].
func (c *conn) clientIDOf(pk *packets.Packet) (string, bool, error) {
	if id := pk.Connect.ClientIdentifier; id != "" {
		return id, false, nil
	}
	if !pk.Connect.Clean && c.version == 4 {
		c.queue(encodeConnack(c, packets.Err3ClientIdentifierNotValid, false))
		return "", false, failf(packets.ErrClientIdentifierNotValid, "empty client id without clean session")
	}
	return newClientID(), true, nil
}

// sessionExpiry is how long the session outlives the connection, in
// seconds: forever for a 3.1.1 persistent session, the v5 property.
func (c *conn) sessionExpiry(pk *packets.Packet) uint32 {
	switch {
	case c.version == 4 && !pk.Connect.Clean:
		return neverExpires
	case c.version == 5:
		return pk.Properties.SessionExpiryInterval
	}
	return 0
}

// authenticate checks a CONNECT's user name and password against
// Options.Users (when set).
func (s *Server) authenticate(pk *packets.Packet) bool {
	if len(s.opts.Users) == 0 {
		return true
	}
	want, ok := s.opts.Users[string(pk.Connect.Username)]
	if !ok || !pk.Connect.UsernameFlag || !pk.Connect.PasswordFlag {
		subtle.ConstantTimeCompare(pk.Connect.Password, []byte(want))
		return false
	}
	return subtle.ConstantTimeCompare(pk.Connect.Password, []byte(want)) == 1
}

// validateConnect runs mochi's CONNECT checks, except that a will may
// have an empty payload (mochi refuses one; the spec allows it).
func validateConnect(pk *packets.Packet) packets.Code {
	v := *pk
	if v.Connect.WillFlag && len(v.Connect.WillPayload) == 0 {
		v.Connect.WillPayload = []byte{0}
	}
	return v.ConnectValidate()
}

// connectProps reads the v5 CONNECT properties.
func (c *conn) connectProps(p *packets.Properties) error {
	if p.AuthenticationMethod != "" {
		return failf(packets.ErrBadAuthenticationMethod, "authentication method %q is not supported", p.AuthenticationMethod)
	}
	c.maxOut = p.MaximumPacketSize
	c.noProblems = p.RequestProblemInfoFlag && p.RequestProblemInfo == 0
	return nil
}

// connackProps sets the v5 CONNACK properties: what the server offers.
func (c *conn) connackProps(p *packets.Properties, id string, assigned bool) {
	if assigned {
		p.AssignedClientID = id
	}
	p.MaximumPacketSize = uint32(c.s.opts.MaxPacketBytes)
	p.TopicAliasMaximum = uint16(c.s.opts.TopicAliasMax)
	p.ReceiveMaximum = receiveMaximum
}

// encodeConnack encodes a CONNACK with a reason code (v5) or return code
// (3.1.1, which knows only 0x01 to 0x05: other failures close the
// connection without one).
func encodeConnack(c *conn, code packets.Code, present bool) []byte {
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ProtocolVersion: c.version, SessionPresent: present, ReasonCode: code.Code}
	if c.version == 5 && code.Code >= 0x80 && !c.noProblems {
		pk.Properties.ReasonString = code.Reason
	}
	return encode(pk)
}

// newClientID returns an id for a client that sent none.
func newClientID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "courier-" + hex.EncodeToString(b)
}

// setWill builds the CONNECT's will message, checking its topic and
// properties (v5: CONNACK with the reason; 3.1.1: closed).
func (c *conn) setWill(pk *packets.Packet) error {
	w := &packets.Packet{ProtocolVersion: c.version, TopicName: pk.Connect.WillTopic, Payload: pk.Connect.WillPayload}
	w.FixedHeader = packets.FixedHeader{Type: packets.Publish, Qos: pk.Connect.WillQos, Retain: pk.Connect.WillRetain}
	w.Properties = pk.Connect.WillProperties
	m, code, detail := c.toMessage(w)
	if code != packets.CodeSuccess {
		return failf(code, "will: %s", detail)
	}
	c.will = &will{Topic: w.TopicName, Retain: w.FixedHeader.Retain, Msg: *m, delay: time.Duration(w.Properties.WillDelayInterval) * time.Second}
	return nil
}

// handleDisconnect ends the connection as the client asked: without the
// will, unless a v5 client gives a reason other than 0x00 (0x04 asks for
// it, an error code implies it); a v5 client may change the session
// expiry, but not from 0 [MQTT-3.14.2-1].
func (c *conn) handleDisconnect(pk *packets.Packet) error {
	if c.version == 5 && pk.Properties.SessionExpiryIntervalFlag {
		if c.sess.expiry == 0 && pk.Properties.SessionExpiryInterval > 0 {
			return failf(packets.ErrProtocolViolationZeroNonZeroExpiry, "session expiry 0 cannot be raised at DISCONNECT")
		}
		c.sess.expiry = pk.Properties.SessionExpiryInterval
	}
	c.normalExit = true
	c.keepWill = c.version == 5 && pk.ReasonCode != packets.CodeSuccess.Code // only 0x00 discards the will [MQTT-3.14.4-3]
	return nil
}

// detach ends the connection's part in its session: subscriptions stop
// (group members leave, so unacked messages wait for the next
// connection), QoS 2 releases still awaited are kept, and the will is
// published or scheduled, unless the client disconnected normally or the
// server is going away.
func (c *conn) detach() {
	c.stopAll()
	clear(c.sess.pubrel)
	c.omu.Lock()
	for id, f := range c.fly {
		if f.rel {
			c.sess.pubrel[id] = true
		}
	}
	c.omu.Unlock()
	sendWill := c.will != nil && (!c.normalExit || c.keepWill) && c.s.ctx.Err() == nil && !c.shuttingDown.Load()
	var delay time.Duration
	if sendWill {
		delay = c.will.delay
		if exp := time.Duration(c.sess.expiry) * time.Second; c.sess.expiry != neverExpires && exp < delay {
			delay = exp // the will goes when the session ends, if sooner [MQTT-3.1.3-9]
		}
	}
	var pending *will
	if sendWill && delay > 0 {
		c.will.Due = time.Now().Add(delay).UnixMilli()
		pending = c.will // saved with the session
	}
	c.s.sessions.detach(c, c.sess, pending)
	switch {
	case !sendWill:
	case delay <= 0:
		c.s.publishWill(c.clientID, c.will)
	default:
		c.s.sessions.scheduleWill(c.sess, c.will)
	}
}

// publishWill publishes a will message.
func (s *Server) publishWill(clientID string, w *will) {
	m := w.Msg // a copy: the broker sets its time
	wait, err := s.publish(&m, w.Retain, w.Topic)
	if err == nil {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		defer cancel()
		err = wait(ctx)
	}
	if err != nil {
		s.log.Warn("mqtt: will not published", "client", clientID, "err", err)
	}
}

// resendPubrel sends again the PUBRELs a previous connection of the
// session left unanswered [MQTT-4.4.0-1].
func (c *conn) resendPubrel() {
	c.omu.Lock()
	ids := make([]uint16, 0, len(c.sess.pubrel))
	for id := range c.sess.pubrel {
		c.fly[id] = &inflight{qos: 2, rel: true}
		ids = append(ids, id)
	}
	c.omu.Unlock()
	clear(c.sess.pubrel)
	for _, id := range ids {
		c.queue(c.ack(packets.Pubrel, id, packets.CodeSuccess, ""))
	}
}
