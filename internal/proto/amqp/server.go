package amqp

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

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Users maps each user to its password; nil accepts any PLAIN or
	// AMQPLAIN login (guest/guest included).
	Users map[string]string
	// FrameMax is the largest frame the server accepts and proposes in
	// connection.tune, header and end octet included; default 128 KiB.
	// A client may ask for less, never for more.
	FrameMax uint32
	// ChannelMax is the highest channel number; default 2047.
	ChannelMax uint16
	// Heartbeat is the heartbeat interval the server proposes; default
	// 60 s. The client's tune-ok decides (0 turns heartbeats off).
	Heartbeat time.Duration
	// MaxBodySize bounds a message body; default the broker's
	// DefaultMaxMsgSize (a stream's own limit also applies).
	MaxBodySize uint64
	// HandshakeTimeout bounds the time from accept to connection.open;
	// default 10 s.
	HandshakeTimeout time.Duration
	// WriteTimeout closes a connection whose client does not read for
	// this long; default 30 s.
	WriteTimeout time.Duration
}

// Defaults.
const (
	DefaultFrameMax         = 128 << 10
	DefaultChannelMax       = 2047
	DefaultHeartbeat        = 60 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultWriteTimeout     = 30 * time.Second
)

// Server is an AMQP 0-9-1 listener over a broker.
type Server struct {
	b    *broker.Broker
	opts Options
	log  *slog.Logger
	reg  *registry // exchanges, exclusive queues, consumer counts

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	// fwdCtx ends when the server stops: the exchange bindings'
	// forwarders end (e2e.go).
	fwdCtx    context.Context
	fwdCancel context.CancelFunc
	wg        sync.WaitGroup

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		conns     map[*conn]struct{}
	}
}

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("amqp: server closed")

// New returns a Server over b.
func New(b *broker.Broker, o Options) *Server {
	if o.FrameMax == 0 {
		o.FrameMax = DefaultFrameMax
	}
	o.FrameMax = max(o.FrameMax, frameMinSize)
	if o.ChannelMax == 0 {
		o.ChannelMax = DefaultChannelMax
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MaxBodySize == 0 {
		o.MaxBodySize = broker.DefaultMaxMsgSize
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Users != nil {
		o.Users = maps.Clone(o.Users)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{b: b, opts: o, log: o.Logger, reg: newRegistry()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[*conn]struct{}{}
	s.fwdCtx, s.fwdCancel = context.WithCancel(s.ctx)
	s.startForwarders()
	return s
}

// Serve accepts connections on ln until Close or Shutdown, and then
// returns ErrServerClosed. Temporary accept errors are retried with a
// growing delay. It closes ln.
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
			return fmt.Errorf("amqp: accept: %w", err)
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

func (s *Server) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// serveConn registers a connection and starts its reader and writer.
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

// Conns returns how many client connections are open, for metrics.
func (s *Server) Conns() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.mu.conns))
}

// stop stops accepting; with force it also closes every connection at
// once, otherwise it sends each connection.close (320 CONNECTION_FORCED).
func (s *Server) stop(force bool) {
	s.fwdCancel()
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
			c.shutdown()
		}
	}
}

// Close closes the listeners and every connection at once, and waits for
// the server's goroutines. Unacknowledged deliveries go back to their
// queues.
func (s *Server) Close() error {
	s.cancel()
	s.stop(true)
	s.wg.Wait()
	return nil
}

// Shutdown stops accepting and asks every client to close (connection.close
// with 320 CONNECTION_FORCED), then waits for the connections to end. When
// ctx ends first it closes everything at once and returns ctx's error.
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
		return fmt.Errorf("amqp: shutdown: %w", ctx.Err())
	}
}
