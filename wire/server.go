package wire

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"connectrpc.com/connect/v2"
)

// Server serves the RPCs of a connect.Server on wire connections. The
// caller accepts the connections (and tells them apart from others by
// their first byte, see Preface) and hands each to ServeConn.
type Server struct {
	rpc    *connect.Server
	specs  map[string]connect.Spec
	codec  connect.Codec
	maxMsg int
	log    *slog.Logger

	mu      sync.Mutex
	conns   map[*serverConn]struct{}
	closing bool
	calls   sync.WaitGroup // handlers running; Add under mu while !closing
}

// ServerOptions configure a Server.
type ServerOptions struct {
	// Codec encodes and decodes messages (binary protobuf); required.
	Codec connect.Codec
	// MaxMessageBytes bounds one request message (default
	// DefaultMaxMessageBytes); a larger one fails its call with
	// resource_exhausted and the connection carries on.
	MaxMessageBytes int
	Logger          *slog.Logger
}

// NewServer returns a Server for the methods registered on rpc.
func NewServer(rpc *connect.Server, o ServerOptions) *Server {
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{rpc: rpc, specs: map[string]connect.Spec{}, codec: o.Codec,
		maxMsg: o.MaxMessageBytes, log: o.Logger, conns: map[*serverConn]struct{}{}}
	for spec := range rpc.Specs() {
		s.specs[spec.Procedure] = spec
	}
	return s
}

// ServeConn serves nc until the connection ends. The client's preface
// has been read already; r reads the rest of nc (perhaps through a
// buffer that holds bytes read past the preface).
func (s *Server) ServeConn(nc net.Conn, r io.Reader) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &serverConn{s: s, nc: nc, r: r, w: writer{nc: nc, raw: syscallConn(nc)}, ctx: ctx, cancel: cancel,
		streams: map[uint32]*serverStream{}}
	c.flow = newConnFlow(serverConnWindow, clientConnWindow, func(n int) {
		c.w.later(frameWindow, 0, func(b []byte) []byte { return appendWindow(b, n) })
	})
	// The preface goes before the connection is registered, so that a
	// go-away from Shutdown cannot come first.
	err := c.w.write(func(b []byte) []byte { return append(b, Preface...) }, false)
	s.mu.Lock()
	if s.closing || err != nil {
		s.mu.Unlock()
		cancel()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer c.close()
	if err := c.readLoop(); err != nil {
		s.log.Debug("wire: closing a connection that broke the protocol", "remote", nc.RemoteAddr(), "err", err)
		// The connection ends here: the go-away is written at once,
		// for a little while at most.
		nc.SetWriteDeadline(time.Now().Add(goAwayTimeout))
		_ = c.w.control(frameGoAway, 0, goAway{code: connect.CodeInternal, message: err.Error()}.append)
		c.w.idle() // another goroutine may be writing it
	}
}

// Shutdown stops taking new streams, waits for the calls in progress
// until ctx ends, then closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.goAway(goAway{code: connect.CodeUnavailable, message: "server shutting down"})
	}
	done := make(chan struct{})
	go func() { s.calls.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	if err != nil {
		<-done // closed connections cancel their calls
	}
	return err
}

// serverConn is one client connection.
type serverConn struct {
	s      *Server
	nc     net.Conn
	r      io.Reader
	w      writer
	flow   *connFlow
	ctx    context.Context // ends with the connection; streams derive from it
	cancel context.CancelFunc

	mu      sync.Mutex
	streams map[uint32]*serverStream
	lastID  uint32 // the highest stream id opened
}

// close ends the connection and every stream on it.
func (c *serverConn) close() {
	c.nc.Close()
	c.cancel()
	c.mu.Lock()
	for _, st := range c.streams {
		st.in.finish(connect.NewError(connect.CodeCanceled, "connection closed"), true)
	}
	c.mu.Unlock()
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
}

func (c *serverConn) goAway(g goAway) {
	c.w.later(frameGoAway, 0, g.append)
}

// goAwayTimeout bounds the write of a go-away on a connection that
// ends.
const goAwayTimeout = 5 * time.Second

// protocolError is a peer's breach of the protocol: the connection ends.
func protocolError(format string, args ...any) error {
	return &protoErr{fmt.Sprintf("wire protocol error: "+format, args...)}
}

type protoErr struct{ msg string }

func (e *protoErr) Error() string { return e.msg }

func isProtocolError(err error) bool {
	_, ok := err.(*protoErr)
	return ok
}

// readLoop reads frames until the connection ends (nil) or the client
// breaks the protocol.
func (c *serverConn) readLoop() error {
	fr := frameReader{r: c.r}
	return c.broke(fr.run(c.message, c.handle))
}

// message reads a message frame into its stream's inbox (readMessage).
func (c *serverConn) message(h frameHeader) error {
	if h.stream == 0 {
		return protocolError("message frame on stream 0")
	}
	st := c.stream(h.stream)
	if st == nil {
		return readMessage(c.r, c.flow, h, nil, c.s.maxMsg, nil)
	}
	return readMessage(c.r, c.flow, h, st.in, c.s.maxMsg, func() {
		st.in.finish(connect.NewError(connect.CodeResourceExhausted,
			fmt.Sprintf("message of %d bytes is over the limit of %d bytes", h.length, c.s.maxMsg)), false)
	})
}

// broke is what readLoop returns for err: a protocol error, or nil for
// a connection that failed.
func (c *serverConn) broke(err error) error {
	if isProtocolError(err) {
		return err
	}
	return nil
}

func (c *serverConn) stream(id uint32) *serverStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// handle acts on one frame from the client.
func (c *serverConn) handle(h frameHeader, p []byte) error {
	if h.stream == 0 {
		if h.typ != frameWindow {
			return protocolError("%s frame on stream 0", h.typ)
		}
		n, err := parseWindow(p)
		if err != nil {
			return protocolError("connection window: %v", err)
		}
		if !c.flow.out.add(n) {
			return protocolError("connection window beyond what was sent")
		}
		return nil
	}
	switch h.typ {
	case frameOpen:
		o, err := parseOpen(p)
		if err != nil {
			return protocolError("open of stream %d: %v", h.stream, err)
		}
		return c.open(h.stream, o)
	case frameCloseSend:
		if st := c.stream(h.stream); st != nil {
			st.in.finish(io.EOF, false)
		}
	case frameCancel:
		if st := c.stream(h.stream); st != nil {
			st.cancel()
			st.in.finish(connect.NewError(connect.CodeCanceled, "canceled by the client"), true)
		}
	case frameWindow:
		n, err := parseWindow(p)
		if err != nil {
			return protocolError("window of stream %d: %v", h.stream, err)
		}
		if st := c.stream(h.stream); st != nil && !st.out.add(n) {
			return protocolError("window of stream %d beyond what was sent", h.stream)
		}
	default:
		return protocolError("unexpected %s frame from a client", h.typ)
	}
	return nil
}

// open starts a stream's call, or refuses it.
func (c *serverConn) open(id uint32, o *openFrame) error {
	c.mu.Lock()
	reused := id <= c.lastID
	if !reused {
		c.lastID = id
	}
	n := len(c.streams)
	c.mu.Unlock()
	if reused {
		return protocolError("stream %d opened after stream %d (ids only grow)", id, c.lastID)
	}
	if n >= maxStreamsPerConn {
		c.refuse(id, connect.CodeResourceExhausted,
			fmt.Sprintf("too many open streams on one connection (limit %d)", maxStreamsPerConn))
		return nil
	}
	st := c.newStream(id, o)
	c.s.mu.Lock()
	if c.s.closing {
		c.s.mu.Unlock()
		st.cancel()
		c.refuse(id, connect.CodeUnavailable, "server shutting down")
		return nil
	}
	c.s.calls.Add(1)
	c.s.mu.Unlock()
	c.mu.Lock()
	c.streams[id] = st
	c.mu.Unlock()
	go st.run()
	return nil
}

// refuse ends a stream that never started.
func (c *serverConn) refuse(id uint32, code connect.Code, msg string) {
	f := endFrame{code: code, message: msg}
	c.w.later(frameEnd, id, f.append)
}

func (c *serverConn) remove(id uint32) {
	c.mu.Lock()
	delete(c.streams, id)
	c.mu.Unlock()
}
