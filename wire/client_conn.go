package wire

import (
	"bufio"
	"context"
	"net"
	"sync"

	"connectrpc.com/connect/v2"
)

// clientConn is one connection of a Transport.
type clientConn struct {
	t    *Transport
	nc   net.Conn
	r    *bufio.Reader
	w    writer
	flow *connFlow

	openMu   sync.Mutex // held from a stream's id to its open frame
	mu       sync.Mutex
	streams  map[uint32]*clientStream
	nextID   uint32
	err      error  // why the connection ended; nil while it is open
	draining bool   // the server sent a go-away: no new streams
	goAway   string // its reason
}

func (c *clientConn) usable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil && !c.draining
}

// newStream registers a stream, or returns nil when the connection takes
// no new streams.
func (c *clientConn) newStream(ctx context.Context, spec connect.Spec) *clientStream {
	if !c.usable() {
		return nil
	}
	return newClientStream(c, ctx, spec)
}

// register numbers st and routes its frames to it; the caller holds
// openMu and writes st's open frame before letting go, so that the
// server sees ids in order. false: the connection takes no new streams.
func (c *clientConn) register(st *clientStream) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.draining || c.nextID == 1<<32-1 {
		c.draining = true
		return false
	}
	c.nextID++
	st.id = c.nextID
	c.streams[st.id] = st
	return true
}

func (c *clientConn) stream(id uint32) *clientStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

func (c *clientConn) remove(id uint32) {
	c.mu.Lock()
	delete(c.streams, id)
	c.mu.Unlock()
}

// readLoop reads frames until the connection ends, then fails the
// streams left on it.
func (c *clientConn) readLoop() {
	err := c.read()
	c.nc.Close()
	c.mu.Lock()
	reason := err.Error()
	if c.goAway != "" {
		reason = c.goAway
	}
	c.err = connect.NewError(connect.CodeUnavailable, "connection to "+c.t.addr+" lost: "+reason).WithCause(err)
	left := c.streams
	c.streams = map[uint32]*clientStream{}
	c.mu.Unlock()
	for _, st := range left {
		st.ended(c.err)
	}
}

func (c *clientConn) read() error {
	fr := frameReader{r: c.r}
	return fr.run(c.message, c.handle)
}

// message reads a message frame into its stream's inbox (readMessage).
func (c *clientConn) message(h frameHeader) error {
	st := c.stream(h.stream)
	if st == nil {
		return readMessage(c.r, c.flow, h, nil, c.t.o.MaxMessageBytes, nil)
	}
	return readMessage(c.r, c.flow, h, st.in, c.t.o.MaxMessageBytes, func() { st.tooBig(int(h.length)) })
}

// handle acts on one frame from the server.
func (c *clientConn) handle(h frameHeader, p []byte) error {
	if h.typ == frameGoAway {
		g, err := parseGoAway(p)
		if err != nil {
			return protocolError("go-away: %v", err)
		}
		c.mu.Lock()
		c.draining, c.goAway = true, g.message
		c.mu.Unlock()
		return nil
	}
	if h.stream == 0 && h.typ == frameWindow {
		n, err := parseWindow(p)
		if err != nil {
			return protocolError("connection window: %v", err)
		}
		if !c.flow.out.add(n) {
			return protocolError("connection window beyond what was sent")
		}
		return nil
	}
	if h.stream == 0 {
		return protocolError("%s frame on stream 0", h.typ)
	}
	st := c.stream(h.stream)
	switch h.typ {
	case frameHeaders:
		hd, err := parseHeaders(p)
		if err != nil {
			return protocolError("headers of stream %d: %v", h.stream, err)
		}
		if st != nil {
			st.headers(&hd)
		}
	case frameEnd:
		f, err := parseEnd(p)
		if err != nil {
			return protocolError("end of stream %d: %v", h.stream, err)
		}
		if st != nil {
			c.remove(h.stream)
			st.endFrom(f)
		}
	case frameWindow:
		n, err := parseWindow(p)
		if err != nil {
			return protocolError("window of stream %d: %v", h.stream, err)
		}
		if st != nil && !st.out.add(n) {
			return protocolError("window of stream %d beyond what was sent", h.stream)
		}
	default:
		return protocolError("unexpected %s frame from a server", h.typ)
	}
	return nil
}
