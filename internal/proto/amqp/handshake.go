package amqp

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"strings"
	"time"
)

// handshake runs the connection's opening (spec 2.2.4): protocol header,
// start/start-ok (authentication), tune/tune-ok, open/open-ok.
func (c *conn) handshake() error {
	var hdr [8]byte
	if _, err := io.ReadFull(c.fr.r, hdr[:]); err != nil {
		return err
	}
	if !bytes.Equal(hdr[:], protocolHeader) {
		// Spec 4.2.2: answer with the header we speak, then close.
		c.send(protocolHeader)
		return fmt.Errorf("bad protocol header %q", hdr[:])
	}
	c.send(appendMethod(nil, 0, &connectionStart{VersionMajor: 0, VersionMinor: 9,
		ServerProperties: serverProperties(), Mechanisms: "PLAIN AMQPLAIN", Locales: "en_US"}))
	var so connectionStartOk
	if err := c.expect(&so); err != nil {
		return err
	}
	if err := c.authenticate(&so); err != nil {
		return err
	}
	c.send(appendMethod(nil, 0, &connectionTune{ChannelMax: c.s.opts.ChannelMax,
		FrameMax: c.s.opts.FrameMax, Heartbeat: uint16(c.s.opts.Heartbeat / time.Second)}))
	var to connectionTuneOk
	if err := c.expect(&to); err != nil {
		return err
	}
	if err := c.tune(&to); err != nil {
		return err
	}
	var op connectionOpen
	if err := c.expect(&op); err != nil {
		return err
	}
	if op.VirtualHost != "/" && op.VirtualHost != "" {
		return newErr(codeNotAllowed, "vhost '%s' not found: Courier has one namespace, vhost '/'", op.VirtualHost)
	}
	c.opened.Store(true) // before open-ok: a client that has it may be sent connection.close
	c.send(appendMethod(nil, 0, &connectionOpenOk{}))
	return nil
}

func serverProperties() Table {
	return Table{
		"product": "Courier", "platform": "Go", "information": "https://github.com/courier-mq/courier",
		"capabilities": Table{
			"publisher_confirms": true, "basic.nack": true, "consumer_cancel_notify": true,
			"exchange_exchange_bindings": false, "connection.blocked": false,
			"authentication_failure_close": true, "per_consumer_qos": true,
		},
	}
}

// expect reads the next method on channel 0 into m; another method is an
// error (spec: during the handshake only the expected method may come).
func (c *conn) expect(m method) error {
	for {
		f, err := c.fr.read()
		if err != nil {
			return err
		}
		if f.typ == frameHeartbeat {
			continue
		}
		if f.typ != frameMethod || f.channel != 0 {
			return frameErr(codeUnexpectedFrame, "UNEXPECTED_FRAME - frame type %d on channel %d during the handshake", f.typ, f.channel)
		}
		got, err := decodeMethod(f.payload)
		if err != nil {
			return err
		}
		if got.Name() != m.Name() {
			if _, ok := got.(*connectionClose); ok {
				c.send(appendMethod(nil, 0, &connectionCloseOk{}))
				return errConnClosed
			}
			return newErr(codeCommandInvalid, "expected %s, got %s", m.Name(), got.Name())
		}
		r := reader{b: f.payload[4:]}
		m.read(&r)
		return nil
	}
}

// authenticate checks PLAIN ("\0user\0pass") or AMQPLAIN (a table with
// LOGIN and PASSWORD, without its size) credentials.
func (c *conn) authenticate(so *connectionStartOk) error {
	var user, pass string
	switch so.Mechanism {
	case "PLAIN":
		parts := strings.Split(so.Response, "\x00")
		if len(parts) != 3 {
			return newErr(codeAccessRefused, "malformed PLAIN response")
		}
		user, pass = parts[1], parts[2]
	case "AMQPLAIN":
		w := writer{}
		w.longstr(so.Response)
		r := reader{b: w.b}
		t := r.table()
		if r.err != nil {
			return newErr(codeAccessRefused, "malformed AMQPLAIN response: %v", r.err)
		}
		user, _ = t["LOGIN"].(string)
		pass, _ = t["PASSWORD"].(string)
	default:
		return newErr(codeAccessRefused, "unsupported mechanism %q: use PLAIN or AMQPLAIN", so.Mechanism)
	}
	if c.s.opts.Users != nil && !checkPassword(c.s.opts.Users, user, pass) {
		return newErr(codeAccessRefused, "Login was refused using authentication mechanism %s", so.Mechanism)
	}
	c.user = user
	return nil
}

// checkPassword compares in constant time: digests of equal length are
// compared, and an unknown user costs the same as a wrong password.
func checkPassword(users map[string]string, user, pass string) bool {
	want, ok := users[user]
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(pass))
	return subtle.ConstantTimeCompare(w[:], g[:]) == 1 && ok
}

// tune applies the client's tune-ok: its frame-max may lower ours (0
// means no limit of its own), its heartbeat decides.
func (c *conn) tune(to *connectionTuneOk) error {
	fm := c.s.opts.FrameMax
	if to.FrameMax != 0 {
		if to.FrameMax < frameMinSize {
			return newErr(codeNotAllowed, "frame-max %d is below the minimum %d", to.FrameMax, frameMinSize)
		}
		if to.FrameMax > fm {
			return newErr(codeNotAllowed, "frame-max %d is above the server's %d", to.FrameMax, fm)
		}
		fm = to.FrameMax
	}
	c.frameMax.Store(fm)
	c.channelMax = c.s.opts.ChannelMax
	if to.ChannelMax != 0 && to.ChannelMax < c.channelMax {
		c.channelMax = to.ChannelMax
	}
	c.heartbeat = time.Duration(to.Heartbeat) * time.Second
	c.hb <- c.heartbeat
	return nil
}
