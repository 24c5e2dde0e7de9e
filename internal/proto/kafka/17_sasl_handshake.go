package kafka

// SaslHandshake, versions 0 to 1.
//
// With Options.Users set, the one mechanism is PLAIN: the answer lists
// ["PLAIN"], and any other mechanism gets UNSUPPORTED_SASL_MECHANISM and
// the connection closes after the response, as Kafka does. A second
// handshake (before or after authenticating) is ILLEGAL_SASL_STATE and
// also closes; sessions do not expire (SaslAuthenticate answers
// session_lifetime_ms 0), so clients never re-authenticate.
//
// v1 is followed by SaslAuthenticate requests. v0 is the legacy flow:
// the next frame is the raw PLAIN token (a size and the token, no request
// header), answered on success by an empty frame (size 0); on failure
// the connection closes without an answer, as Kafka does.
//
// Without Users there is no mechanism: every handshake gets
// UNSUPPORTED_SASL_MECHANISM with an empty list, and the connection stays
// usable without authentication.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// mechPlain is the one SASL mechanism.
const mechPlain = "PLAIN"

func handleSaslHandshake(c *conn, req *kmsg.SASLHandshakeRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.SupportedMechanisms = []string{}
	if !c.s.authRequired() {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return resp, nil
	}
	resp.SupportedMechanisms = []string{mechPlain}
	switch {
	case c.authed || c.saslMech != "":
		resp.ErrorCode = kerr.IllegalSaslState.Code
		c.closeAfter = closeErr("SaslHandshake: SASL handshake already done")
	case req.Mechanism != mechPlain:
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		c.closeAfter = closeErr("SaslHandshake: unsupported SASL mechanism %q", req.Mechanism)
	default:
		c.saslMech = mechPlain
		c.rawSASL = req.Version == 0
	}
	return resp, nil
}

// rawAuthenticate serves the frame that follows a v0 handshake: the raw
// PLAIN token. It answers an empty frame on success; a failure closes the
// connection.
func (c *conn) rawAuthenticate(token []byte) ([]byte, error) {
	c.rawSASL = false
	user, err := c.s.authPlain(token)
	if err != nil {
		return nil, errClose{err}
	}
	c.authed, c.user = true, user
	return []byte{0, 0, 0, 0}, nil
}
