package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/api"
	"github.com/courier-mq/courier/server"
)

// startAuthServer starts a server whose API requires the users' credentials.
func startAuthServer(t *testing.T, users map[string]string) string {
	t.Helper()
	srv, err := server.New(server.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(srv.Broker, api.Options{Users: users})
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Shutdown(ctx)
		if err := <-served; !errors.Is(err, api.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// TestClientCredentials connects over wire (unless this is the run over
// HTTP) and over HTTP: without credentials or with wrong ones Connect
// fails with ErrUnauthenticated and says why; with WithCredentials unary
// calls, async publishes and a subscription work.
func TestClientCredentials(t *testing.T) {
	addr := startAuthServer(t, map[string]string{"alice": "s3cret"})
	for _, transport := range []struct {
		name string
		opts []Option
	}{{"default", nil}, {"http", []Option{WithHTTP()}}} {
		t.Run(transport.name, func(t *testing.T) {
			ctx := ctxT(t)
			for _, bad := range []struct {
				name string
				opts []Option
				says string
			}{
				{"none", nil, "missing credentials"},
				{"wrong password", []Option{WithCredentials("alice", "nope")}, "unknown user or wrong password"},
				{"unknown user", []Option{WithCredentials("bob", "s3cret")}, "unknown user or wrong password"},
			} {
				c, err := Connect(ctx, addr, append(bad.opts, transport.opts...)...)
				if err == nil {
					c.Close()
					t.Fatalf("%s: connected", bad.name)
				}
				if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), bad.says) {
					t.Fatalf("%s: %v, want ErrUnauthenticated saying %q", bad.name, err, bad.says)
				}
			}
			c, err := Connect(ctx, addr, append([]Option{WithCredentials("alice", "s3cret")}, transport.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if transport.name == "default" && !forceHTTP && c.wire == nil {
				t.Fatal("the client does not use wire")
			}
			credentialsWork(t, ctx, c, transport.name)
		})
	}
}

// credentialsWork creates a stream, subscribes to it, publishes to it
// (unary and async) and receives both messages.
func credentialsWork(t *testing.T, ctx context.Context, c *Client, name string) {
	t.Helper()
	stream := "auth-" + name
	if _, err := c.CreateStream(ctx, StreamConfig{Name: stream, Subjects: []string{stream + ".>"}}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, stream+".>", StartEarliest())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := c.Publish(ctx, &Message{Subject: stream + ".a", Payload: []byte("unary")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishAsync(&Message{Subject: stream + ".b", Payload: []byte("async")}).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"unary", "async"} {
		m, err := sub.Next(ctx)
		if err != nil || string(m.Payload) != want {
			t.Fatalf("subscription: %v %v, want %q", m, err, want)
		}
	}
}
