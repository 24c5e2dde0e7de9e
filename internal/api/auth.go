package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"connectrpc.com/connect/v2"
)

// Authentication. With Options.Users set, every RPC must carry HTTP Basic
// credentials ("Authorization: Basic base64(user:password)") of a user in
// the map; a call without them, or with an unknown user or a wrong
// password, ends with unauthenticated (HTTP 401, reason unauthenticated)
// before its handler runs or reads a message; over HTTP it carries a
// WWW-Authenticate challenge. Only that call fails: the
// connection (HTTP/2 or wire) stays open for the next.
//
// The check is a Connect server interceptor, so it covers every transport
// that dispatches through the connect.Server: Connect, gRPC and gRPC-Web
// over HTTP (the request's headers), and wire (the open frame's headers,
// which wire puts in the same CallInfo). The other routes on the port
// (/healthz, /readyz, /metrics) are plain HTTP handlers and stay open.
//
// Passwords are compared as SHA-256 digests in constant time, and an
// unknown user costs the same as a wrong password, so timing tells
// neither. There is no TLS yet: Basic credentials cross the network in
// clear, so a users file protects a server only on a trusted network.

// Reasons of an authentication failure (the message after
// "unauthenticated: ").
const (
	msgMissingCredentials = "missing credentials: the server requires a user and password (HTTP Basic authorization)"
	msgWrongCredentials   = "unknown user or wrong password"
)

// challenge answers a refused call over HTTP, as HTTP Basic asks.
const challenge = `Basic realm="courier"`

// credentials holds each user's password digest; nil means no
// authentication.
type credentials map[string][sha256.Size]byte

// newCredentials digests users' passwords; no users gives nil.
func newCredentials(users map[string]string) credentials {
	if len(users) == 0 {
		return nil
	}
	c := make(credentials, len(users))
	for u, p := range users {
		c[u] = sha256.Sum256([]byte(p))
	}
	return c
}

// check reports whether user and password match, in time that depends on
// neither.
func (c credentials) check(user, password string) bool {
	want, ok := c[user]
	got := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1 && ok
}

// authorize checks the Authorization header of a call.
func (c credentials) authorize(authorization string) error {
	if authorization == "" {
		return unauthenticated(msgMissingCredentials)
	}
	r := http.Request{Header: http.Header{"Authorization": {authorization}}}
	user, password, ok := r.BasicAuth()
	if !ok {
		return unauthenticated(msgMissingCredentials + "; the Authorization header is not Basic")
	}
	if !c.check(user, password) {
		return unauthenticated(msgWrongCredentials)
	}
	return nil
}

// unauthenticated is an authentication failure with reason
// unauthenticated and an ErrorInfo detail.
func unauthenticated(msg string) error {
	return withReason(connect.CodeUnauthenticated, "unauthenticated", msg, nil)
}

// authenticate is the interceptor that checks every call's credentials
// when the server has users; without users it adds nothing.
func (s *Server) authenticate(next connect.ServerFunc) connect.ServerFunc {
	creds := s.creds
	if creds == nil {
		return next
	}
	return func(ctx context.Context, spec connect.Spec, st connect.ServerStream) error {
		info, ok := connect.CallInfoForServerContext(ctx)
		if !ok {
			return unauthenticated(msgMissingCredentials)
		}
		if err := creds.authorize(info.RequestHeader().Get("Authorization")); err != nil {
			info.ResponseHeader().Set("WWW-Authenticate", challenge)
			return err
		}
		return next(ctx, spec, st)
	}
}
