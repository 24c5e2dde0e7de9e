package kafka

// SaslAuthenticate, versions 0 to 2.
//
// Follows a SaslHandshake v1 for PLAIN (RFC 4616): the token is
// [authzid] NUL authcid NUL password, each part at most 255 bytes; an
// authzid, if given, must equal the user (authcid). The password is
// checked against Options.Users in constant time. Success answers no
// bytes and session_lifetime_ms 0 (the session does not expire). A bad
// token or wrong credentials answer SASL_AUTHENTICATION_FAILED with a
// message, and the connection closes after the response, as Kafka does.
// A SaslAuthenticate without a handshake, or after authentication, is
// ILLEGAL_SASL_STATE and closes too; without Users it is
// ILLEGAL_SASL_STATE and the connection stays usable.

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleSaslAuthenticate(c *conn, req *kmsg.SASLAuthenticateRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	fail := func(code int16, msg string, close bool) (kmsg.Response, error) {
		resp.ErrorCode, resp.ErrorMessage = code, &msg
		if close {
			c.closeAfter = closeErr("SaslAuthenticate: %s", msg)
		}
		return resp, nil
	}
	switch {
	case !c.s.authRequired():
		return fail(kerr.IllegalSaslState.Code, "SASL authentication is not enabled on this listener", false)
	case c.authed:
		return fail(kerr.IllegalSaslState.Code, "already authenticated", true)
	case c.saslMech == "":
		return fail(kerr.IllegalSaslState.Code, "SaslAuthenticate before SaslHandshake", true)
	}
	user, err := c.s.authPlain(req.SASLAuthBytes)
	if err != nil {
		return fail(kerr.SaslAuthenticationFailed.Code, err.Error(), true)
	}
	c.authed, c.user = true, user
	resp.SASLAuthBytes = []byte{}
	return resp, nil
}

// maxPlainPart bounds each part of a PLAIN token (RFC 4616).
const maxPlainPart = 255

// errBadCredentials is the one answer to an unknown user or a wrong
// password, so that the answer does not tell which.
var errBadCredentials = errors.New("Authentication failed: Invalid username or password")

// authPlain checks a PLAIN token and returns the user it authenticates.
func (s *Server) authPlain(token []byte) (string, error) {
	if len(token) > 3*maxPlainPart+2 {
		return "", fmt.Errorf("Invalid SASL/PLAIN response: %d bytes, at most %d", len(token), 3*maxPlainPart+2)
	}
	parts := bytes.Split(token, []byte{0})
	if len(parts) != 3 {
		return "", fmt.Errorf("Invalid SASL/PLAIN response: expected 3 tokens, got %d", len(parts))
	}
	authz, user, pass := parts[0], parts[1], parts[2]
	switch {
	case len(user) == 0:
		return "", errors.New("Authentication failed: username not specified")
	case len(pass) == 0:
		return "", errors.New("Authentication failed: password not specified")
	case len(authz) > maxPlainPart || len(user) > maxPlainPart || len(pass) > maxPlainPart:
		return "", fmt.Errorf("Invalid SASL/PLAIN response: a part is over %d bytes", maxPlainPart)
	case len(authz) > 0 && !bytes.Equal(authz, user):
		return "", errors.New("Authentication failed: Client requested an authorization id that is different from username")
	}
	if !s.checkPassword(string(user), pass) {
		s.log.Info("kafka: SASL PLAIN authentication failed", "user", string(user))
		return "", errBadCredentials
	}
	return string(user), nil
}

// checkPassword compares in constant time: digests of equal length are
// compared, and an unknown user costs the same as a wrong password.
func (s *Server) checkPassword(user string, pass []byte) bool {
	want, ok := s.opts.Users[user]
	w, g := sha256.Sum256([]byte(want)), sha256.Sum256(pass)
	return subtle.ConstantTimeCompare(w[:], g[:]) == 1 && ok
}
