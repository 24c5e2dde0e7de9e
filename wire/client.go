package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"connectrpc.com/connect/v2"
)

// Transport is a connect.Transport over wire connections to one server.
// It keeps one connection, which every stream shares, opened on first
// use and again after it ends (a server restart, say): streams on a
// lost connection fail with unavailable and the next stream dials anew.
type Transport struct {
	addr string
	o    TransportOptions

	dialMu sync.Mutex // one dial at a time
	mu     sync.Mutex
	cur    *clientConn
	all    map[*clientConn]struct{} // open connections, cur and draining ones
	closed bool
	conns  sync.WaitGroup // connection readers
}

// TransportOptions configure a Transport.
type TransportOptions struct {
	// Codec encodes and decodes messages (binary protobuf); required.
	Codec connect.Codec
	// MaxMessageBytes bounds one response message (default
	// DefaultMaxMessageBytes); a larger one fails its call with
	// resource_exhausted.
	MaxMessageBytes int
	// Dial opens a connection (default: TCP).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// OnHeaders, if set, is called once per stream: when its response
	// headers arrive (err nil), or when it ends without them (err says
	// why). It runs on the connection's reader and must not block.
	OnHeaders func(ctx context.Context, h *connect.Header, err error)
}

// ErrNotWire is the error, wrapped, of a server that answered the
// preface with something else: it does not speak this protocol.
var ErrNotWire = errors.New("the server does not speak the Courier wire protocol")

// handshakeTimeout bounds the preface exchange, and dialTimeout the
// default dial, when ctx has no deadline.
const (
	handshakeTimeout = 10 * time.Second
	dialTimeout      = 10 * time.Second
)

// NewTransport returns a Transport to the server at addr (host:port).
func NewTransport(addr string, o TransportOptions) *Transport {
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.Dial == nil {
		d := net.Dialer{Timeout: dialTimeout}
		o.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	return &Transport{addr: addr, o: o}
}

// Probe connects unless connected, so that a caller learns at once
// whether the server speaks this protocol (errors.Is(err, ErrNotWire)).
func (t *Transport) Probe(ctx context.Context) error {
	_, err := t.conn(ctx)
	return err
}

// Close closes the connection; its streams fail, and new ones too.
func (t *Transport) Close() error {
	t.mu.Lock()
	t.closed = true
	t.cur = nil
	for c := range t.all {
		c.nc.Close()
	}
	t.mu.Unlock()
	t.conns.Wait()
	return nil
}

// errClosed is what a closed Transport's calls fail with.
var errClosed = connect.NewError(connect.CodeCanceled, "wire transport closed")

// conn returns the open connection, dialing one if there is none.
func (t *Transport) conn(ctx context.Context) (*clientConn, error) {
	if c, err := t.current(); c != nil || err != nil {
		return c, err
	}
	t.dialMu.Lock()
	defer t.dialMu.Unlock()
	if c, err := t.current(); c != nil || err != nil {
		return c, err
	}
	c, err := t.dial(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		c.nc.Close()
		return nil, errClosed
	}
	t.cur = c
	if t.all == nil {
		t.all = map[*clientConn]struct{}{}
	}
	t.all[c] = struct{}{}
	t.conns.Add(1)
	go func() {
		defer t.conns.Done()
		c.readLoop()
		t.mu.Lock()
		delete(t.all, c)
		t.mu.Unlock()
	}()
	return c, nil
}

// current is the open connection if it takes new streams.
func (t *Transport) current() (*clientConn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errClosed
	}
	if t.cur != nil && !t.cur.usable() {
		t.cur = nil
	}
	return t.cur, nil
}

// dial connects and exchanges prefaces.
func (t *Transport) dial(ctx context.Context) (*clientConn, error) {
	nc, err := t.o.Dial(ctx, t.addr)
	if err != nil {
		return nil, connect.NewError(connect.CodeUnavailable, err.Error()).WithCause(err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(handshakeTimeout)
	}
	nc.SetDeadline(deadline)
	r := bufio.NewReaderSize(nc, readBufferBytes)
	got := make([]byte, len(Preface))
	_, err = io.WriteString(nc, Preface)
	if err == nil {
		_, err = io.ReadFull(r, got)
	}
	if err == nil && string(got) != Preface {
		err = fmt.Errorf("%w (it answered %q)", ErrNotWire, got)
	}
	if err != nil {
		nc.Close()
		if errors.Is(err, ErrNotWire) {
			return nil, connect.NewError(connect.CodeUnimplemented, err.Error()).WithCause(err)
		}
		return nil, connect.NewError(connect.CodeUnavailable, "handshake with "+t.addr+": "+err.Error()).WithCause(err)
	}
	nc.SetDeadline(time.Time{})
	c := &clientConn{t: t, nc: nc, r: r, w: writer{nc: nc, raw: syscallConn(nc)}, streams: map[uint32]*clientStream{}}
	c.flow = newConnFlow(clientConnWindow, serverConnWindow, func(n int) {
		c.w.later(frameWindow, 0, func(b []byte) []byte { return appendWindow(b, n) })
	})
	return c, nil
}

// readBufferBytes is each connection's read buffer.
const readBufferBytes = 16 << 10

// NewClientStream opens a stream for spec; nothing is sent until the
// first Send, CloseSend, Receive or SendHeaders.
func (t *Transport) NewClientStream(ctx context.Context, spec connect.Spec) (connect.ClientStream, error) {
	if err := ctx.Err(); err != nil {
		return nil, contextError(ctx)
	}
	for range 3 {
		c, err := t.conn(ctx)
		if err != nil {
			return nil, err
		}
		if st := c.newStream(ctx, spec); st != nil {
			return st, nil
		}
		// The connection ended or goes away: the next try dials anew.
	}
	return nil, connect.NewError(connect.CodeUnavailable, "no connection to "+t.addr+" took the stream")
}
