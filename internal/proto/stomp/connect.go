package stomp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// supportedVersions is the version header of a failed negotiation.
const supportedVersions = "1.0,1.1,1.2"

func newSession() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// onConnect negotiates the version and heart-beats and answers
// CONNECTED (spec "Connecting", "Protocol Negotiation",
// "Heart-beating"). Its headers are read and written unescaped.
func (c *conn) onConnect(f *Frame) bool {
	version, ok := negotiate(f)
	if !ok {
		c.fail(&ProtocolError{Msg: "unsupported STOMP version",
			Detail:  "accept-version " + strings.TrimSpace(f.Value(hdrAcceptVersion)) + " names no version this server supports: " + supportedVersions,
			Version: supportedVersions}, "")
		return false
	}
	if !c.s.authenticate(f.Value("login"), f.Value("passcode")) {
		c.s.log.Info("stomp: authentication failed", "remote", c.nc.RemoteAddr(), "login", f.Value("login"))
		c.fail(protoErr("access refused", "login %q: unknown login or wrong passcode", truncate([]byte(f.Value("login")))), "")
		return false
	}
	cx, cy, err := parseHeartBeat(f.Value(hdrHeartBeat))
	if err != nil {
		c.fail(err, "")
		return false
	}
	sx, sy := max(c.s.opts.HeartBeat.Send, 0), max(c.s.opts.HeartBeat.Receive, 0)
	var send, recv time.Duration
	if sx > 0 && cy > 0 {
		send = max(sx, cy)
	}
	if cx > 0 && sy > 0 {
		recv = max(cx, sy)
	}
	c.connected, c.version = true, version
	c.esc = escapingFor(version)
	c.r.esc = c.esc
	w := frameBuilder{esc: escNone}
	w.start(cmdConnected)
	w.header(hdrVersion, version)
	w.header(hdrHeartBeat, strconv.FormatInt(sx.Milliseconds(), 10)+","+strconv.FormatInt(sy.Milliseconds(), 10))
	w.header(hdrServer, serverName)
	w.header(hdrSession, c.session)
	c.queueConfirm(confirmItem{frame: w.end(nil)})
	c.beatEvery <- send
	// A silent client is dropped after twice its interval (spec: "take
	// into account errors"); without heart-beats a connection may idle.
	c.setReadIdle(2 * recv)
	return true
}

// negotiate picks the highest version both sides support; no
// accept-version header means STOMP 1.0.
func negotiate(f *Frame) (string, bool) {
	av, ok := f.Get(hdrAcceptVersion)
	if !ok {
		return "1.0", true
	}
	best := ""
	for v := range strings.SplitSeq(av, ",") {
		switch v = strings.TrimSpace(v); v {
		case "1.0", "1.1", "1.2":
			best = max(best, v)
		}
	}
	return best, best != ""
}

func escapingFor(version string) escaping {
	switch version {
	case "1.1":
		return esc11
	case "1.2":
		return esc12
	}
	return escNone
}

// parseHeartBeat parses "cx,cy" in milliseconds; absent means 0,0.
func parseHeartBeat(v string) (cx, cy time.Duration, pe *ProtocolError) {
	if v == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(v, ",")
	x, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 31)
	y, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 31)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, protoErr("bad heart-beat", "heart-beat %q must be two non-negative integers of milliseconds, as in 10000,10000", v)
	}
	return time.Duration(x) * time.Millisecond, time.Duration(y) * time.Millisecond, nil
}

// authenticate checks a login and passcode against Options.Users in
// constant time: digests of equal length are compared, and an unknown
// login costs the same as a wrong passcode.
func (s *Server) authenticate(login, passcode string) bool {
	if s.opts.Users == nil {
		return true
	}
	want, ok := s.opts.Users[login]
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(passcode))
	return subtle.ConstantTimeCompare(w[:], g[:]) == 1 && ok
}
