package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	// Addr is where ListenAndServe listens; default ":9092".
	Addr string
	// AdvertisedAddr is the host:port given to clients in Metadata; by
	// default the local address of each client's connection.
	AdvertisedAddr string
	// AutoCreateTopics creates a topic (a stream with one partition) when
	// a Metadata request names an unknown one and allows creation.
	AutoCreateTopics bool
	// MaxFrameBytes bounds a request's size; default 100 MiB.
	MaxFrameBytes int
	// IdleTimeout closes a connection that sends nothing for this long;
	// default 10 minutes (Kafka's connections.max.idle.ms).
	IdleTimeout time.Duration
	// WriteTimeout closes a connection whose client does not read a
	// response for this long; default 30 seconds.
	WriteTimeout time.Duration
	// GroupInitialRebalanceDelay is how long a consumer group's first
	// rebalance (from Empty) waits for more members
	// (group.initial.rebalance.delay.ms, 3 s in Kafka); default none.
	GroupInitialRebalanceDelay time.Duration
	// Users, when not empty, requires SASL PLAIN authentication: it maps
	// each user to its password. Until a connection authenticates it may
	// send only ApiVersions, SaslHandshake and SaslAuthenticate. Without
	// TLS the password crosses the network in the clear.
	Users  map[string]string
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultMaxFrameBytes = 100 << 20
	DefaultIdleTimeout   = 10 * time.Minute
	DefaultWriteTimeout  = 30 * time.Second
)

// Server is a Kafka listener over a Backend.
type Server struct {
	b    Backend
	opts Options
	log  *slog.Logger
	prod *producers
	// groups is the consumer-group coordinator (groups.go).
	groups *coordinator

	// onFetchWait, when set (by tests), is called when a fetch starts to
	// wait for data.
	onFetchWait atomic.Pointer[func()]

	// readChunk is the most a fetch reads from the log at once
	// (defaultReadChunk; tests set it smaller before serving).
	readChunk int

	ctx         context.Context // ends at Close: ends every request
	cancel      context.CancelFunc
	polls       context.Context // ends at Shutdown: long polls answer at once
	cancelPolls context.CancelFunc
	wg          sync.WaitGroup

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		conns     map[*conn]struct{}
	}
}

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("kafka: server closed")

// New returns a Server over b.
func New(b Backend, o Options) *Server {
	if o.Addr == "" {
		o.Addr = ":9092"
	}
	if o.MaxFrameBytes <= 0 {
		o.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if len(o.Users) == 0 {
		o.Users = nil
	} else {
		o.Users = maps.Clone(o.Users)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{b: b, opts: o, log: o.Logger, prod: newProducers(), readChunk: defaultReadChunk}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.polls, s.cancelPolls = context.WithCancel(s.ctx)
	s.groups = newCoordinator(s)
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[*conn]struct{}{}
	return s
}

// ListenAndServe listens on Options.Addr and serves until Close.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("kafka: listen: %w", err)
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Close or Shutdown, and then
// returns ErrServerClosed. It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("kafka: accept: %w", err)
		}
		delay = 0
		s.serveConn(nc)
	}
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	s.mu.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.listeners, ln)
	ln.Close()
}

// authRequired reports whether connections must authenticate (SASL).
func (s *Server) authRequired() bool { return s.opts.Users != nil }

func (s *Server) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// serveConn registers a connection and starts its goroutines.
func (s *Server) serveConn(nc net.Conn) {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.mu.conns[c] = struct{}{}
	s.wg.Add(2) // under mu, so that Close's Wait sees it
	s.mu.Unlock()
	go func() { defer s.wg.Done(); c.readLoop() }()
	go func() { defer s.wg.Done(); c.writeLoop() }()
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.conns, c)
}

// goTracked runs fn on a goroutine that Close waits for. It reports false
// (and does not run fn) once the server is closed.
func (s *Server) goTracked(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); fn() }()
	return true
}

// stop stops accepting; with force it also closes every connection,
// otherwise it asks each to finish its current request and close.
func (s *Server) stop(force bool) {
	s.mu.Lock()
	s.mu.closed = true
	for ln := range s.mu.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		if force {
			c.close()
		} else {
			c.drain()
		}
	}
}

// Close closes the listeners and every connection at once, ends long
// polls, and waits for the server's goroutines.
func (s *Server) Close() error {
	s.cancel()
	s.stop(true)
	s.wg.Wait()
	return nil
}

// Shutdown stops accepting, answers parked fetches with what they have,
// lets each connection finish the request it is handling and write its
// responses, then closes them. When ctx ends first
// it closes everything at once (as Close) and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancelPolls()
	s.stop(false)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return fmt.Errorf("kafka: shutdown: %w", ctx.Err())
	}
}
