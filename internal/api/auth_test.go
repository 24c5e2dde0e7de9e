package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect/v2"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
)

// authUsers are the users of the authentication tests.
var authUsers = map[string]string{"alice": "s3cret", "bob": "pa:ss"}

func basicAuth(user, password string) string { return "Basic " + b64(user+":"+password) }

// withAuthorization gives one call the Authorization header a (none when
// a is empty).
func withAuthorization(ctx context.Context, a string) context.Context {
	if a == "" {
		return ctx
	}
	ctx, info := connect.NewClientContext(ctx)
	info.RequestHeader().Set("Authorization", a)
	return ctx
}

// badLogins are the refused Authorization headers and what the refusal
// says.
var badLogins = []struct{ name, authorization, says string }{
	{"no credentials", "", msgMissingCredentials},
	{"not basic", "Bearer abc", msgMissingCredentials},
	{"wrong password", basicAuth("alice", "s3cre"), msgWrongCredentials},
	{"unknown user", basicAuth("mallory", "s3cret"), msgWrongCredentials},
	{"another user's password", basicAuth("alice", "pa:ss"), msgWrongCredentials},
}

// TestAPIAuthEveryTransport checks, over Connect, gRPC and wire, that a
// unary and a streaming call without credentials or with wrong ones end
// with unauthenticated, and that right ones (any user's) work on the
// same connection right after.
func TestAPIAuthEveryTransport(t *testing.T) {
	e := startEnv(t, Options{Users: authUsers})
	e.createStream(t, "orders", "orders.>")
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			mc, ac := p.clients(e)
			ctx := testCtx(t)
			for _, c := range badLogins {
				bad := withAuthorization(ctx, c.authorization)
				_, err := ac.ListStreams(bad, &courierv1.ListStreamsRequest{})
				wantAuthErr(t, c.name+": ListStreams", err, c.says)
				_, err = mc.Publish(bad, pub("orders.eu", "x"))
				wantAuthErr(t, c.name+": Publish", err, c.says)
				wantSubscribeRefused(t, withAuthorization(ctx, c.authorization), mc, c.says)
				for user, password := range authUsers {
					good := withAuthorization(ctx, basicAuth(user, password))
					if _, err := mc.Publish(good, pub("orders.eu", "x")); err != nil {
						t.Fatalf("after %s: %s's publish: %v", c.name, user, err)
					}
				}
			}
			sub, err := mc.Subscribe(withAuthorization(ctx, basicAuth("bob", "pa:ss")), &courierv1.SubscribeRequest{
				Pattern: "orders.>", Start: &courierv1.Start{Position: &courierv1.Start_Earliest{Earliest: true}}})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			if _, err := sub.Receive(); err != nil {
				t.Fatalf("authenticated subscription: %v", err)
			}
		})
	}
	st, err := e.srv.Broker.StreamInfo("orders")
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(protocols) * len(badLogins) * len(authUsers)); st.Partitions[0].Messages != want {
		t.Fatalf("stream holds %d messages, want %d (only the authenticated publishes)", st.Partitions[0].Messages, want)
	}
}

// wantSubscribeRefused opens a subscription with bad credentials and
// expects it to end with the refusal, having delivered nothing.
func wantSubscribeRefused(t *testing.T, ctx context.Context, mc courierv1connect.MessagingServiceClient, says string) {
	t.Helper()
	sub, err := mc.Subscribe(ctx, &courierv1.SubscribeRequest{Pattern: "orders.>",
		Start: &courierv1.Start{Position: &courierv1.Start_Earliest{Earliest: true}}})
	if err == nil {
		defer sub.Close()
		var r *courierv1.SubscribeResponse
		r, err = sub.Receive()
		if err == nil {
			t.Fatalf("unauthenticated subscription received %v", r)
		}
	}
	wantAuthErr(t, "Subscribe", err, says)
}

// wantAuthErr checks an unauthenticated refusal that says says.
func wantAuthErr(t *testing.T, what string, err error, says string) {
	t.Helper()
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("%s: got %v, want unauthenticated", what, err)
	}
	wantErr(t, err, connect.CodeUnauthenticated, "unauthenticated")
	if !strings.Contains(err.Error(), says) {
		t.Fatalf("%s: %q does not say %q", what, err, says)
	}
}

// TestAPIAuthHTTPJSON is curl with and without -u: a JSON call without
// credentials is a 401 with a JSON error and a WWW-Authenticate
// challenge, with them it works; the health routes need none.
func TestAPIAuthHTTPJSON(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	e := startEnv(t, Options{Users: authUsers, Routes: map[string]http.Handler{"/healthz": ok, "/readyz": ok, "/metrics": ok}})
	for _, c := range badLogins {
		a := e.postJSONAuth(t, "/courier.v1.AdminService/ListStreams", `{}`, c.authorization)
		wantJSONErr(t, a, 401, "unauthenticated", "unauthenticated")
		if msg := a.body["message"].(string); !strings.Contains(msg, c.says) {
			t.Fatalf("%s: message %q does not say %q", c.name, msg, c.says)
		}
		if a.challenge != `Basic realm="courier"` {
			t.Fatalf("%s: WWW-Authenticate %q", c.name, a.challenge)
		}
	}
	a := e.postJSONAuth(t, "/courier.v1.AdminService/CreateStream",
		`{"config":{"name":"orders","subjects":["orders.>"]}}`, basicAuth("alice", "s3cret"))
	if a.status != 200 || !a.reused {
		t.Fatalf("authenticated create: %d %v (reused connection %v)", a.status, a.body, a.reused)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		res, err := e.http.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("%s without credentials: %d %q", path, res.StatusCode, body)
		}
	}
}

// TestAPIAuthOff: without Users, calls need no credentials and ignore
// any given.
func TestAPIAuthOff(t *testing.T) {
	e := startEnv(t, Options{})
	for _, p := range protocols {
		_, ac := p.clients(e)
		for _, c := range badLogins {
			if _, err := ac.ListStreams(withAuthorization(testCtx(t), c.authorization), &courierv1.ListStreamsRequest{}); err != nil {
				t.Fatalf("%s, %s, no users: %v", p.name, c.name, err)
			}
		}
	}
}
