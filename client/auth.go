package client

import (
	"context"
	"encoding/base64"

	connect "connectrpc.com/connect/v2"
)

// A server started with a users file (courier serve --users-file)
// requires a user and password on every call: WithCredentials sends them
// as HTTP Basic authorization, on the HTTP and the wire transport alike.
// A call without them, or with wrong ones, fails with an error that
// errors.Is matches to ErrUnauthenticated; Connect fails so, since it
// makes a call to check that the server answers.

// ErrUnauthenticated is a call the server refused for missing or wrong
// credentials (see WithCredentials).
var ErrUnauthenticated = sentinel("unauthenticated", "unauthenticated")

// WithCredentials sends user and password (HTTP Basic authorization) with
// every call. There is no TLS yet: they cross the network in clear.
func WithCredentials(user, password string) Option {
	return func(o *options) {
		o.authorization = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
}

// interceptors are the client's Connect interceptors: the credentials,
// when given.
func (o *options) interceptors() []connect.ClientInterceptor {
	if o.authorization == "" {
		return nil
	}
	return []connect.ClientInterceptor{authorize(o.authorization)}
}

// authorize sets the Authorization header of every call to value.
func authorize(value string) connect.ClientInterceptor {
	return func(next connect.ClientFunc) connect.ClientFunc {
		return func(ctx context.Context, spec connect.Spec) (connect.ClientStream, error) {
			if info, ok := connect.CallInfoForClientContext(ctx); ok {
				info.RequestHeader().Set("Authorization", value)
			}
			return next(ctx, spec)
		}
	}
}
