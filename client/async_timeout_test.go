package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
)

// stuckServer answers ListStreams (so Connect succeeds) and takes publish
// streams without ever answering them.
type stuckServer struct {
	courierv1connect.UnimplementedMessagingServiceHandler
	courierv1connect.UnimplementedAdminServiceHandler
}

func (stuckServer) ListStreams(context.Context, *courierv1.ListStreamsRequest) (*courierv1.ListStreamsResponse, error) {
	return &courierv1.ListStreamsResponse{}, nil
}

func (stuckServer) PublishStream(ctx context.Context, st courierv1connect.MessagingServicePublishStreamServerStream) error {
	for {
		if _, err := st.Receive(); err != nil {
			return err
		}
	}
}

// fakeServer is a hand-made server of the API, for what the real one
// never does.
type fakeServer interface {
	courierv1connect.MessagingServiceHandler
	courierv1connect.AdminServiceHandler
}

// serveFake serves h on 127.0.0.1 until the test ends and returns its
// address.
func serveFake(t *testing.T, h fakeServer) string {
	t.Helper()
	cs := connect.NewServer()
	courierv1connect.RegisterMessagingServiceHandler(cs, h)
	courierv1connect.RegisterAdminServiceHandler(cs, h)
	mux := http.NewServeMux()
	connecthttp.Mount(mux, cs)
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	hs := &http.Server{Handler: mux, Protocols: protocols}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// A server that takes a batch and never answers fails its futures with
// ErrTimeout after the client's timeout, instead of leaving them pending.
func TestPublishAsyncTimesOutOnAStuckServer(t *testing.T) {
	addr := serveFake(t, stuckServer{})
	ctx := ctxT(t)
	c, err := Connect(ctx, addr, WithTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	f := c.PublishAsync(&Message{Subject: "a.b", Payload: []byte("x")})
	if _, err := f.Wait(ctx); !errors.Is(err, ErrTimeout) {
		t.Fatalf("wait: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("failed after %v, before the timeout", d)
	}
}
