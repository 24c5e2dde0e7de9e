package api

import (
	"connectrpc.com/connect/v2/connectproto"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"

	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/wire"
)

// DefaultMaxMessageBytes bounds one request message when Options leave it 0.
const DefaultMaxMessageBytes = 8 << 20

// compressMinBytes is the smallest response message compressed when the
// client accepts gzip: below it, compressing costs more than it saves
// (a compressor's reset alone outweighs a small message).
const compressMinBytes = 4 << 10

// ErrServerClosed is what Serve returns after Shutdown.
var ErrServerClosed = http.ErrServerClosed

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Routes are extra handlers on the same port, by mux pattern
	// ("/healthz", "/readyz", "/metrics").
	Routes map[string]http.Handler
	// Users, when not empty, maps each user to its password: every RPC
	// must then carry HTTP Basic credentials of one of them (auth.go).
	// The extra Routes stay open.
	Users map[string]string
	// MaxMessageBytes bounds one request message before it is read
	// (default 8 MiB); a larger one fails with resource_exhausted
	// (reason request_too_large).
	MaxMessageBytes int

	// subscriptionBuffer is each Subscribe's broker buffer (0: the
	// broker's default); tests make it small to reach the slow-consumer
	// rule.
	subscriptionBuffer int
	// pullIdle replaces minPullIdle (tests make it short).
	pullIdle time.Duration
}

// Server serves the native API over HTTP/1.1 and h2c on one port.
type Server struct {
	b     *broker.Broker
	log   *slog.Logger
	opts  Options
	creds credentials // nil: no authentication (auth.go)
	http  *http.Server
	conns atomic.Int64

	wire     *wire.Server
	sniffMu  sync.Mutex
	sniffers []*sniffListener // one per Serve

	quit     chan struct{} // closed by Shutdown: open streams end
	quitOnce sync.Once
	pulls    pulls // pull sessions (pull.go)
}

// New returns a Server over b; nothing listens until Serve.
func New(b *broker.Broker, o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	s := &Server{b: b, log: o.Logger, opts: o, creds: newCredentials(o.Users), quit: make(chan struct{})}
	cs := connect.NewServer(s.recoverPanics, s.authenticate, s.explainReceiveErrors)
	courierv1connect.RegisterMessagingServiceHandler(cs, &messaging{s: s})
	courierv1connect.RegisterAdminServiceHandler(cs, &admin{s: s})
	s.wire = wire.NewServer(cs, wire.ServerOptions{Codec: newBinaryCodec(), MaxMessageBytes: o.MaxMessageBytes, Logger: o.Logger})
	mux := http.NewServeMux()
	connecthttp.Mount(mux, cs, connecthttp.WithReadMaxBytes(o.MaxMessageBytes),
		connecthttp.WithCompressMinBytes(compressMinBytes), connecthttp.WithCodecs(codecs()...))
	for pattern, h := range o.Routes {
		mux.Handle(pattern, h)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	s.http = &http.Server{
		Handler:           lazyFlush(mux),
		Protocols:         protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ConnState:         s.connState,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelDebug),
	}
	return s
}

// Serve accepts connections on ln until Shutdown, then returns
// ErrServerClosed. HTTP and wire connections share ln (sniff.go).
func (s *Server) Serve(ln net.Listener) error {
	sl := newSniffListener(ln, s)
	s.sniffMu.Lock()
	s.sniffers = append(s.sniffers, sl)
	s.sniffMu.Unlock()
	err := s.http.Serve(sl)
	sl.Close()
	return err
}

// Shutdown ends open streams (a consumer's unsettled messages go back to
// its group), stops accepting, and waits for requests in progress until ctx
// ends, when it closes the remaining connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.quitOnce.Do(func() { close(s.quit) })
	err := s.http.Shutdown(ctx)
	if werr := s.wire.Shutdown(ctx); err == nil {
		err = werr
	}
	s.pulls.closeAll()
	if err != nil {
		s.http.Close()
	}
	s.sniffMu.Lock()
	for _, sl := range s.sniffers {
		sl.Close()
		sl.wg.Wait()
	}
	s.sniffMu.Unlock()
	return err
}

// Conns returns the number of open client connections.
func (s *Server) Conns() int64 { return s.conns.Load() }

func (s *Server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		s.conns.Add(-1)
	}
}

// recoverPanics turns a handler's panic into an internal error, logged.
func (s *Server) recoverPanics(next connect.ServerFunc) connect.ServerFunc {
	return func(ctx context.Context, spec connect.Spec, st connect.ServerStream) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("api: handler panicked", "procedure", spec.Procedure, "panic", r)
				err = connect.NewError(connect.CodeInternal, "internal: server error")
			}
		}()
		return next(ctx, spec, st)
	}
}

// errShutdown ends streams when the server shuts down.
var errShutdown = errors.New("server shutting down")

// codecs are binary protobuf and JSON. JSON answers include fields at
// their zero value, so that a curl user sees "offset": "0" rather than
// no offset at all.
func codecs() []connect.Codec {
	js := connectproto.NewJSONCodec()
	js.MarshalOptions.EmitUnpopulated = true
	return []connect.Codec{newBinaryCodec(), jsonCodec{js}}
}
