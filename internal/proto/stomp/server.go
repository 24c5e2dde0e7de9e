package stomp

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/netserve"
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
	conns  *netserve.Set[*conn]
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
	s.conns = netserve.New[*conn]("stomp", ErrServerClosed)
	return s
}

// Serve accepts connections on ln until Close or Shutdown, and then
// returns ErrServerClosed. It closes ln. A temporary Accept error is
// retried after a growing pause.
func (s *Server) Serve(ln net.Listener) error {
	return s.conns.Serve(ln, func(nc net.Conn) { s.serveConn(nc) })
}

// ServeConn serves one connection (a WebSocket's, say) on goroutines of
// its own; it returns at once. The server closes nc when done.
func (s *Server) ServeConn(nc net.Conn) { s.serveConn(nc) }

// serveConn starts serving nc and returns its conn, or nil (and closes
// nc) when the server is closed.
func (s *Server) serveConn(nc net.Conn) *conn {
	c := newConn(s, nc)
	if !s.conns.Add(c, c.serve) {
		nc.Close()
		return nil
	}
	return c
}

// Conns returns how many client connections are open, for metrics.
func (s *Server) Conns() int64 { return s.conns.Len() }

// Close closes the listeners and every connection at once and waits
// for the server's goroutines.
func (s *Server) Close() error {
	s.cancel()
	s.conns.Stop(true)
	s.conns.Wait()
	return nil
}

// Shutdown stops accepting and asks each connection to stop reading:
// each answers what it has read (receipts wait for their publishes),
// sends an ERROR saying the server is shutting down and closes. When
// ctx ends first it closes everything at once (as Close) and returns
// ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.conns.Shutdown(ctx, func() { s.Close() })
	s.cancel()
	return err
}
