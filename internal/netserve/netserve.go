// Package netserve is what every protocol front-end's listener shares:
// an accept loop that survives temporary errors, the listeners and
// connections a server tracks (and counts, for metrics), the goroutines
// its Close waits for, and the two ways to stop: gracefully (each
// connection drains: it stops reading, finishes what it has read and
// closes) or at once.
//
// A front-end keeps one Set. Serve runs the accept loop and hands each
// connection to the front-end, which registers it with Add (starting its
// goroutines) and removes it with Remove when it ends. Stop(false)
// closes the listeners and drains every connection; Stop(true) aborts
// them; Shutdown drains and, when its context ends first, calls the
// front-end's Close.
//
// ReadGrowing reads a length a client declared without taking that much
// memory before the bytes arrive.
package netserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Conn is a connection a Set tracks.
type Conn interface {
	comparable
	// Drain asks the connection to stop reading, finish what it has read
	// and close.
	Drain()
	// Abort closes the connection at once.
	Abort()
}

// Set tracks a server's listeners, connections and goroutines.
type Set[C Conn] struct {
	name      string // the protocol, in errors
	closedErr error  // what Serve returns once stopped
	wg        sync.WaitGroup

	mu        sync.Mutex
	stopped   bool
	listeners map[net.Listener]struct{}
	conns     map[C]struct{}
}

// New returns a Set for protocol name; Serve returns closedErr once the
// Set is stopped.
func New[C Conn](name string, closedErr error) *Set[C] {
	return &Set[C]{name: name, closedErr: closedErr, listeners: map[net.Listener]struct{}{}, conns: map[C]struct{}{}}
}

// maxAcceptPause bounds the pause after a temporary Accept error, which
// doubles from 5 ms.
const maxAcceptPause = time.Second

// Serve accepts connections on ln and hands each to accept until the Set
// is stopped, and then returns its closed error. It closes ln. A
// temporary Accept error (out of file descriptors, say) is retried after
// a growing pause.
func (s *Set[C]) Serve(ln net.Listener, accept func(net.Conn)) error {
	if !s.track(ln) {
		ln.Close()
		return s.closedErr
	}
	defer s.untrack(ln)
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.Stopped() {
				return s.closedErr
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				pause = min(max(2*pause, 5*time.Millisecond), maxAcceptPause)
				time.Sleep(pause)
				continue
			}
			return fmt.Errorf("%s: accept: %w", s.name, err)
		}
		pause = 0
		accept(nc)
	}
}

func (s *Set[C]) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Set[C]) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
	ln.Close()
}

// Add tracks c and runs each of fns on a goroutine that Wait waits for.
// Once the Set is stopped it runs nothing and reports false: the caller
// closes the connection.
func (s *Set[C]) Add(c C, fns ...func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(len(fns)) // under mu, so that a Wait after Stop sees it
	for _, fn := range fns {
		go func() { defer s.wg.Done(); fn() }()
	}
	return true
}

// Remove forgets c (it ended).
func (s *Set[C]) Remove(c C) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// Go runs fn on a goroutine that Wait waits for; once the Set is stopped
// it reports false and does not run fn.
func (s *Set[C]) Go(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); fn() }()
	return true
}

// Len returns how many connections are tracked.
func (s *Set[C]) Len() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.conns))
}

// Stopped reports whether Stop was called.
func (s *Set[C]) Stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Stop closes the listeners, refuses new connections and goroutines, and
// drains every connection or, with force, aborts it. It returns the
// connections it stopped.
func (s *Set[C]) Stop(force bool) []C {
	s.mu.Lock()
	s.stopped = true
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]C, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		if force {
			c.Abort()
		} else {
			c.Drain()
		}
	}
	return conns
}

// Wait waits for every goroutine started by Add and Go.
func (s *Set[C]) Wait() { s.wg.Wait() }

// Shutdown drains every connection (Stop(false)) and waits for the
// goroutines. When ctx ends first it calls closeAll (the front-end's
// Close, which must end them), waits, and returns ctx's error.
func (s *Set[C]) Shutdown(ctx context.Context, closeAll func()) error {
	s.Stop(false)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		closeAll()
		<-done
		return fmt.Errorf("%s: shutdown: %w", s.name, ctx.Err())
	}
}
