package client

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/api"
	"github.com/courier-mq/courier/internal/servertest"
	"github.com/courier-mq/courier/server"
)

// testServer is an in-process Courier server with the native API on
// 127.0.0.1.
type testServer struct {
	srv    *server.Server
	api    *api.Server
	addr   string
	served chan error
}

// startServer starts a server on dir whose API listens on addr
// ("127.0.0.1:0" for an ephemeral port).
func startServer(t testing.TB, dir, addr string) *testServer {
	t.Helper()
	srv := servertest.Start(t, dir)
	ln, err := listen(addr)
	if err != nil {
		srv.Shutdown(context.Background())
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, api: api.New(srv.Broker, api.Options{}),
		addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- ts.api.Serve(ln) }()
	return ts
}

// listen listens on addr, retrying briefly when the port of a server
// that just stopped is still taken.
func listen(addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, err
}

func (ts *testServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts.api.Shutdown(ctx)
	if err := <-ts.served; err != nil && !errors.Is(err, api.ErrServerClosed) {
		panic(err)
	}
	ts.srv.Shutdown(ctx)
}
