// Package servertest starts what the protocol front-ends' tests need: a
// Courier server on a folder, and a front-end served on a loopback port,
// both stopped at the test's cleanup (or earlier, by the stop function,
// so that a test can start another server on the same folder).
package servertest

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/courier-mq/courier/server"
)

// Start starts a server on dir. Serve's stop shuts it down.
func Start(t testing.TB, dir string) *server.Server {
	t.Helper()
	srv, err := server.New(server.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	return srv
}

// Listener is a front-end: it serves a net.Listener until closed, and
// Serve then returns its closed error.
type Listener interface {
	Serve(net.Listener) error
	Close() error
}

// Serve serves l on 127.0.0.1 and returns its address and stop, which
// runs once (at cleanup at the latest): it closes l, checks that Serve
// returned closedErr, and shuts srv down.
func Serve(t testing.TB, srv *server.Server, l Listener, closedErr error) (addr string, stop func()) {
	t.Helper()
	addr, stopL := ServeOnly(t, l, closedErr)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			stopL()
			srv.Shutdown(context.Background())
		})
	}
	t.Cleanup(stop)
	return addr, stop
}

// ServeOnly is Serve for a front-end beside others on a server someone
// else stops: its stop closes l and checks what Serve returned.
func ServeOnly(t testing.TB, l Listener, closedErr error) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- l.Serve(ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			l.Close()
			if err := <-served; !errors.Is(err, closedErr) {
				t.Errorf("Serve returned %v, want %v", err, closedErr)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}
