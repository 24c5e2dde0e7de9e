package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"sync/atomic"
	"time"

	"github.com/courier-mq/courier/internal/netserve"
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
	conns       *netserve.Set[*conn]
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
	s.conns = netserve.New[*conn]("kafka", ErrServerClosed)
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
	return s.conns.Serve(ln, s.serveConn)
}

// authRequired reports whether connections must authenticate (SASL).
func (s *Server) authRequired() bool { return s.opts.Users != nil }

// serveConn registers a connection and starts its goroutines.
func (s *Server) serveConn(nc net.Conn) {
	c := newConn(s, nc)
	if !s.conns.Add(c, c.readLoop, c.writeLoop) {
		nc.Close()
	}
}

// goTracked runs fn on a goroutine that Close waits for. It reports false
// (and does not run fn) once the server is closed.
func (s *Server) goTracked(fn func()) bool { return s.conns.Go(fn) }

// Close closes the listeners and every connection at once, ends long
// polls, and waits for the server's goroutines.
func (s *Server) Close() error {
	s.cancel()
	s.conns.Stop(true)
	s.conns.Wait()
	return nil
}

// Shutdown stops accepting, answers parked fetches with what they have,
// lets each connection finish the request it is handling and write its
// responses, then closes them. When ctx ends first
// it closes everything at once (as Close) and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancelPolls()
	err := s.conns.Shutdown(ctx, func() { s.Close() })
	s.cancel()
	return err
}
