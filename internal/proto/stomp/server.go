package stomp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// Options configure a Server. Zero values take the defaults below.
type Options struct {
	Logger *slog.Logger

	// HeartBeat is what the server offers in CONNECTED (spec
	// "Heart-beating"): Send is the smallest interval at which it can
	// send heart-beats, Receive the interval it would like to receive
	// them at. A negative value turns that direction off.
	HeartBeat HeartBeat

	MaxLineBytes        int // a command or header line, EOL included
	MaxHeaders          int // header lines in a frame
	MaxHeaderBytes      int // a frame's header lines together
	MaxBodyBytes        int // a frame's body
	MaxSubscriptions    int // open subscriptions per connection
	MaxTransactions     int // open transactions per connection
	MaxTransactionBytes int // bodies held by a connection's open transactions
	MaxPendingPublishes int // SENDs stored but not yet durable, per connection
	WriteQueueBytes     int // frames queued for a connection's socket
	DefaultPrefetch     int // unacked queue messages per subscription without prefetch-count

	// Users, when not nil, maps each login to its passcode: CONNECT must
	// carry one of them (compared in constant time). Nil accepts any
	// login. Without TLS, passcodes cross the network in the clear.
	Users map[string]string

	// WebSocketOrigins are the origins, besides the request's host, from
	// which browsers may open a WebSocket (see websocket.AcceptOptions).
	WebSocketOrigins []string

	// ConnectTimeout bounds the wait for the CONNECT frame.
	ConnectTimeout time.Duration
	// WriteTimeout closes a connection whose socket takes no bytes for
	// this long (a client that stopped reading).
	WriteTimeout time.Duration
}

// HeartBeat is a pair of heart-beat intervals (see Options.HeartBeat).
type HeartBeat struct{ Send, Receive time.Duration }

// Defaults.
const (
	DefaultHeartBeat           = 10 * time.Second
	DefaultMaxLineBytes        = 16 << 10
	DefaultMaxHeaders          = 64
	DefaultMaxHeaderBytes      = 64 << 10
	DefaultMaxBodyBytes        = broker.DefaultMaxMsgSize
	DefaultMaxSubscriptions    = 256
	DefaultMaxTransactions     = 16
	DefaultMaxTransactionBytes = 16 << 20
	DefaultMaxPendingPublishes = 1024
	DefaultWriteQueueBytes     = 4 << 20
	DefaultPrefetch            = 100
	DefaultConnectTimeout      = 10 * time.Second
	DefaultWriteTimeout        = 30 * time.Second
)

// serverName is the CONNECTED frame's server header.
const serverName = "courier"

func (o *Options) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxLineBytes, DefaultMaxLineBytes)
	def(&o.MaxHeaders, DefaultMaxHeaders)
	def(&o.MaxHeaderBytes, DefaultMaxHeaderBytes)
	def(&o.MaxBodyBytes, DefaultMaxBodyBytes)
	def(&o.MaxSubscriptions, DefaultMaxSubscriptions)
	def(&o.MaxTransactions, DefaultMaxTransactions)
	def(&o.MaxTransactionBytes, DefaultMaxTransactionBytes)
	def(&o.MaxPendingPublishes, DefaultMaxPendingPublishes)
	def(&o.WriteQueueBytes, DefaultWriteQueueBytes)
	def(&o.DefaultPrefetch, DefaultPrefetch)
	if o.HeartBeat.Send == 0 {
		o.HeartBeat.Send = DefaultHeartBeat
	}
	if o.HeartBeat.Receive == 0 {
		o.HeartBeat.Receive = DefaultHeartBeat
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

func (o *Options) limits() limits {
	return limits{line: o.MaxLineBytes, headers: o.MaxHeaders, headerBytes: o.MaxHeaderBytes, body: o.MaxBodyBytes}
}

// Server is a STOMP listener over a broker.
type Server struct {
	b    *broker.Broker
	opts Options
	log  *slog.Logger

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		conns     map[*conn]struct{}
	}
}

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("stomp: server closed")

// New returns a Server over b.
func New(b *broker.Broker, o Options) *Server {
	o.setDefaults()
	if o.Users != nil {
		o.Users = maps.Clone(o.Users)
	}
	s := &Server{b: b, opts: o, log: o.Logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[*conn]struct{}{}
	return s
}

// Serve accepts connections on ln until Close or Shutdown, and then
// returns ErrServerClosed. It closes ln. A temporary Accept error is
// retried after a growing pause.
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
			return fmt.Errorf("stomp: accept: %w", err)
		}
		delay = 0
		s.ServeConn(nc)
	}
}

// ServeConn serves one connection (a WebSocket's, say) on goroutines of
// its own; it returns at once. The server closes nc when done.
func (s *Server) ServeConn(nc net.Conn) { s.serveConn(nc) }

// serveConn starts serving nc and returns its conn, or nil (and closes
// nc) when the server is closed.
func (s *Server) serveConn(nc net.Conn) *conn {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		nc.Close()
		return nil
	}
	s.mu.conns[c] = struct{}{}
	s.wg.Add(1) // under mu, so that Close's Wait sees it
	s.mu.Unlock()
	go func() { defer s.wg.Done(); c.serve() }()
	return c
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

func (s *Server) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mu.conns, c)
}

// Conns returns how many client connections are open, for metrics.
func (s *Server) Conns() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.mu.conns))
}

// stop stops accepting; with force it also closes every connection,
// otherwise it asks each to stop reading, finish what it has queued
// and close.
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
			c.abort()
		} else {
			c.drain()
		}
	}
}

// Close closes the listeners and every connection at once and waits
// for the server's goroutines.
func (s *Server) Close() error {
	s.cancel()
	s.stop(true)
	s.wg.Wait()
	return nil
}

// Shutdown stops accepting and asks each connection to stop reading:
// each answers what it has read (receipts wait for their publishes),
// sends an ERROR saying the server is shutting down and closes. When
// ctx ends first it closes everything at once (as Close) and returns
// ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
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
		return fmt.Errorf("stomp: shutdown: %w", ctx.Err())
	}
}
