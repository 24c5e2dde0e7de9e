package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
)

// A listener serves one protocol on a net.Listener until shut down.
type listener interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// listeners starts and stops the server's front-ends. Each runs in its
// own goroutine; one that stops on its own (not through stop) reports on
// failed.
type listeners struct {
	out    io.Writer
	log    *slog.Logger
	failed chan error
	wg     sync.WaitGroup
	mu     sync.Mutex
	open   []listener // guarded by mu
	closed bool       // guarded by mu
	isUp   bool       // guarded by mu: every listener has started
}

// up records that every listener has started.
func (ls *listeners) up() {
	ls.mu.Lock()
	ls.isUp = true
	ls.mu.Unlock()
}

// ready says why the server is not ready (for /readyz): still starting
// or shutting down.
func (ls *listeners) ready() error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	switch {
	case ls.closed:
		return errors.New("shutting down")
	case !ls.isUp:
		return errors.New("starting")
	}
	return nil
}

// start opens addr (or prints that the listener is off) and serves l on it.
func (ls *listeners) start(name, addr string, l listener) error {
	if addr == "off" {
		fmt.Fprintf(ls.out, "courier: %s listener off\n", name)
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return listenError(name, addr, err)
	}
	ls.mu.Lock()
	ls.open = append(ls.open, l)
	ls.mu.Unlock()
	fmt.Fprintf(ls.out, "courier: %s listening on %s\n", name, ln.Addr())
	ls.log.Info("listening", "listener", name, "addr", ln.Addr().String())
	ls.wg.Add(1)
	go func() {
		defer ls.wg.Done()
		err := l.Serve(ln)
		ls.mu.Lock()
		closed := ls.closed
		ls.mu.Unlock()
		if !closed {
			ls.failed <- fmt.Errorf("%s listener stopped: %w", name, err)
		}
	}()
	return nil
}

// stop shuts every listener down and waits for their goroutines.
func (ls *listeners) stop(ctx context.Context) {
	ls.mu.Lock()
	ls.closed = true
	open := ls.open
	ls.mu.Unlock()
	for _, l := range open {
		if err := l.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ls.log.Warn("listener shutdown", "err", err)
		}
	}
	ls.wg.Wait()
}
