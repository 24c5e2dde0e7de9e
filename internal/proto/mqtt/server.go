package mqtt

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
	"github.com/courier-mq/courier/internal/netserve"
)

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// MaxPacketBytes bounds a packet (fixed header included) a client may
	// send; it is advertised to v5 clients. Default DefaultMaxPacketBytes.
	MaxPacketBytes int
	// ConnectTimeout closes a connection that sends no CONNECT for this
	// long; default 10 seconds.
	ConnectTimeout time.Duration
	// WriteTimeout closes a connection whose client does not read for
	// this long; default 30 seconds.
	WriteTimeout time.Duration
	// MaxInflight bounds the QoS 1 and 2 messages sent to one client and
	// not yet acknowledged (lowered by a v5 client's receive maximum);
	// default 256.
	MaxInflight int
	// TopicAliasMax is the topic alias maximum offered to v5 clients;
	// default 64, 0 uses the default, negative offers none.
	TopicAliasMax int
	// RetainedStream and SessionsStream name the compacted streams that
	// hold retained messages and persistent sessions; defaults
	// "mqtt-retained" and "mqtt-sessions".
	RetainedStream string
	SessionsStream string
	// Users, when not empty, requires every CONNECT to carry a user name
	// and password found here (compared in constant time); others get
	// CONNACK 0x86 (v5) or 0x04 (3.1.1) and are closed. Without TLS the
	// password crosses the network in the clear.
	Users map[string]string
}

// Defaults.
const (
	DefaultMaxPacketBytes = 1<<20 + 64<<10
	DefaultConnectTimeout = 10 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultMaxInflight    = 256
	DefaultTopicAliasMax  = 64
)

// Subjects of the internal streams. Subjects starting with '$' are out of
// reach of MQTT clients: they cannot publish to them, and wildcard
// filters do not match them.
const (
	retainedSubject = "$mqtt.retained"
	sessionsSubject = "$mqtt.sessions"
)

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("mqtt: server closed")

// Server is an MQTT 3.1.1 and 5.0 listener over a broker.
type Server struct {
	b    *broker.Broker
	opts Options
	log  *slog.Logger

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	conns  *netserve.Set[*conn]

	initOnce sync.Once
	initErr  error
	retained *retainStore
	sessions *sessionStore
}

// New returns a Server over b.
func New(b *broker.Broker, o Options) *Server {
	if o.MaxPacketBytes <= 0 {
		o.MaxPacketBytes = DefaultMaxPacketBytes
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxInflight <= 0 {
		o.MaxInflight = DefaultMaxInflight
	}
	o.MaxInflight = min(o.MaxInflight, 65535)
	switch {
	case o.TopicAliasMax == 0:
		o.TopicAliasMax = DefaultTopicAliasMax
	case o.TopicAliasMax < 0:
		o.TopicAliasMax = 0
	}
	o.TopicAliasMax = min(o.TopicAliasMax, 65535)
	if o.RetainedStream == "" {
		o.RetainedStream = "mqtt-retained"
	}
	if o.SessionsStream == "" {
		o.SessionsStream = "mqtt-sessions"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Users = maps.Clone(o.Users)
	s := &Server{b: b, opts: o, log: o.Logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.conns = netserve.New[*conn]("mqtt", ErrServerClosed)
	return s
}

// init opens the retained and session stores once, before the first
// connection.
func (s *Server) init() error {
	s.initOnce.Do(func() {
		s.retained, s.initErr = openRetained(s)
		if s.initErr == nil {
			s.sessions, s.initErr = openSessions(s)
		}
	})
	return s.initErr
}

// Serve accepts connections on ln until Close or Shutdown, and then
// returns ErrServerClosed. It closes ln. It fails at once when the
// internal streams cannot be opened (for example when another stream
// already captures their subjects).
func (s *Server) Serve(ln net.Listener) error {
	if err := s.init(); err != nil {
		ln.Close()
		return err
	}
	return s.conns.Serve(ln, s.ServeConn)
}

// ServeConn serves one connection (from Serve, or a WebSocket adapted to
// a net.Conn) and returns at once.
func (s *Server) ServeConn(nc net.Conn) { s.serveConn(nc) }

// serveConn starts serving nc and returns its conn (nil when refused).
func (s *Server) serveConn(nc net.Conn) *conn {
	if err := s.init(); err != nil {
		s.log.Error("mqtt: cannot serve", "err", err)
		nc.Close()
		return nil
	}
	c := newConn(s, nc)
	if !s.conns.Add(c, c.readLoop, c.writeLoop) {
		nc.Close()
		return nil
	}
	return c
}

// Conns returns the number of open connections.
func (s *Server) Conns() int64 { return s.conns.Len() }

// goTracked runs fn on a goroutine that Close waits for. It reports false
// (and does not run fn) once the server is closed.
func (s *Server) goTracked(fn func()) bool { return s.conns.Go(fn) }

// Close closes the listeners and every connection at once (without
// publishing their wills: the server, not the client, went away), stops
// timers, and waits for the server's goroutines.
func (s *Server) Close() error {
	s.cancel()
	s.conns.Stop(true)
	if s.sessions != nil {
		s.sessions.stopTimers()
	}
	s.conns.Wait()
	return nil
}

// Shutdown stops accepting, tells v5 clients the server is shutting down
// (DISCONNECT 0x8B), writes what is queued and closes every connection.
// When ctx ends first it closes everything at once (as Close) and returns
// ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	conns := s.conns.Stop(false)
	defer s.Close()
	for _, c := range conns {
		select {
		case <-c.done:
		case <-ctx.Done():
			return fmt.Errorf("mqtt: shutdown: %w", ctx.Err())
		}
	}
	return nil
}
