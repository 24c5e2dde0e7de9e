package amqp

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
	conns     *netserve.Set[*conn]
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
	s.conns = netserve.New[*conn]("amqp", ErrServerClosed)
	s.fwdCtx, s.fwdCancel = context.WithCancel(s.ctx)
	s.startForwarders()
	return s
}

// Serve accepts connections on ln until Close or Shutdown, and then
// returns ErrServerClosed. Temporary accept errors are retried with a
// growing delay. It closes ln.
func (s *Server) Serve(ln net.Listener) error {
	return s.conns.Serve(ln, s.serveConn)
}

// serveConn registers a connection and starts its reader and writer.
func (s *Server) serveConn(nc net.Conn) {
	c := newConn(s, nc)
	if !s.conns.Add(c, c.readLoop, c.writeLoop) {
		nc.Close()
	}
}

// Conns returns how many client connections are open, for metrics.
func (s *Server) Conns() int64 { return s.conns.Len() }

// Close closes the listeners and every connection at once, and waits for
// the server's goroutines. Unacknowledged deliveries go back to their
// queues.
func (s *Server) Close() error {
	s.cancel() // the forwarders' context too
	s.conns.Stop(true)
	s.conns.Wait()
	return nil
}

// Shutdown stops accepting and asks every client to close (connection.close
// with 320 CONNECTION_FORCED), then waits for the connections to end. When
// ctx ends first it closes everything at once and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.fwdCancel()
	err := s.conns.Shutdown(ctx, func() { s.Close() })
	s.cancel()
	return err
}
