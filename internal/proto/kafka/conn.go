package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/courier-mq/courier/internal/netserve"
)

// conn is one client connection: the reader parses and handles requests
// one at a time, in order; the writer writes their responses in the same
// order (conn_write.go). A Produce is handled up to the assignment of its
// offsets; the writer waits for its durability, so the reader goes on.
type conn struct {
	s      *Server
	nc     net.Conn
	ctx    context.Context // ends when the connection closes
	cancel context.CancelFunc
	out    chan outFrame // closed by the reader when it ends

	closeOnce sync.Once
	draining  atomic.Bool

	clientID string

	// SASL state, used by the reader only (17_sasl_handshake.go,
	// 36_sasl_authenticate.go). closeAfter, set by a handler, closes the
	// connection once its response is written.
	saslMech   string // the mechanism chosen by the handshake
	rawSASL    bool   // the next frame is a raw token (handshake v0)
	authed     bool
	user       string
	closeAfter error

	lent      [][]byte    // read buffers lent to the current request's handler
	fetchData []fetchData // the current Fetch's record data, a piece list per partition in response order
}

// maxUnauthFrame bounds a request's size until the connection has
// authenticated, when authentication is required (Kafka's
// sasl.server.max.receive.size).
const maxUnauthFrame = 512 << 10

// preAuth reports whether a request key may come before authentication.
func preAuth(key int16) bool {
	switch kmsg.Key(key) {
	case kmsg.ApiVersions, kmsg.SASLHandshake, kmsg.SASLAuthenticate:
		return true
	}
	return false
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, out: make(chan outFrame, outboundQueue)}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	return c
}

// Drain and Abort are how the server stops c (netserve.Conn).
func (c *conn) Drain() { c.drain() }
func (c *conn) Abort() { c.close() }

// close closes the connection at once; pending responses are dropped.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.nc.Close()
		c.s.conns.Remove(c)
	})
}

// drain asks the reader to stop after the request it is handling; the
// writer then writes what is queued and closes the connection.
func (c *conn) drain() {
	c.draining.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

// errClose is returned by a handler (or the parser) to close the
// connection, as Kafka does on requests it cannot parse.
type errClose struct{ err error }

func (e errClose) Error() string { return e.err.Error() }
func (e errClose) Unwrap() error { return e.err }

func closeErr(format string, args ...any) error {
	return errClose{fmt.Errorf(format, args...)}
}

func (c *conn) readLoop() {
	defer close(c.out)
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("kafka: panic in connection, closing it", "remote", c.nc.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
			c.close()
		}
	}()
	for {
		body, err := c.readFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && !c.draining.Load() && c.ctx.Err() == nil {
				c.s.log.Debug("kafka: read", "remote", c.nc.RemoteAddr(), "err", err)
			}
			return
		}
		var f outFrame
		if c.rawSASL {
			var resp []byte
			resp, err = c.rawAuthenticate(body)
			f.bufs = net.Buffers{resp}
		} else {
			f, err = c.handle(body)
		}
		if err != nil {
			c.s.log.Info("kafka: closing connection", "remote", c.nc.RemoteAddr(), "client", c.clientID, "err", err)
			return
		}
		if f.await != nil || len(f.bufs) > 0 {
			select {
			case c.out <- f:
			case <-c.ctx.Done():
				return
			}
		}
		if c.closeAfter != nil {
			// The writer writes the response, then closes.
			c.s.log.Info("kafka: closing connection", "remote", c.nc.RemoteAddr(), "client", c.clientID, "err", c.closeAfter)
			return
		}
	}
}

// readFrame reads one size-prefixed request. The size is checked before
// anything is buffered, and the buffer grows only as bytes arrive, so a
// large size claimed by a client that sends little costs little.
func (c *conn) readFrame() ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
	if c.draining.Load() {
		return nil, io.EOF
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(hdr[:]))
	lo, hi := int32(8), c.s.opts.MaxFrameBytes
	if c.s.authRequired() && !c.authed {
		hi = min(hi, maxUnauthFrame)
	}
	if c.rawSASL {
		lo = 0 // a raw SASL token has no request header
	}
	if n < lo || int64(n) > int64(hi) {
		return nil, fmt.Errorf("frame of %d bytes: must be %d to %d", n, lo, hi)
	}
	return netserve.ReadGrowing(c.nc, int(n), readStep)
}

// request is a parsed request with its header.
type request struct {
	key, version int16
	corr         int32
	req          kmsg.Request
}

// parseRequest parses a request header (v1, or v2 for flexible versions)
// and body. A request that cannot be served is an error that closes the
// connection; a too-new ApiVersions is returned with req nil.
func parseRequest(body []byte) (request, string, error) {
	r := kbin.Reader{Src: body}
	rq := request{key: r.Int16(), version: r.Int16(), corr: r.Int32()}
	clientID := r.NullableString()
	if !r.Ok() {
		return rq, "", closeErr("request header cut short")
	}
	a := lookup(rq.key)
	if a == nil {
		return rq, "", closeErr("unsupported API key %d", rq.key)
	}
	if rq.key == int16(kmsg.ApiVersions) && rq.version > a.max {
		return rq, "", nil // answered with UNSUPPORTED_VERSION
	}
	if rq.version < a.min || rq.version > a.max {
		return rq, "", closeErr("API key %d version %d: supported %d to %d", rq.key, rq.version, a.min, a.max)
	}
	rq.req = kmsg.RequestForKey(rq.key)
	rq.req.SetVersion(rq.version)
	if rq.req.IsFlexible() {
		kmsg.SkipTags(&r)
		if !r.Ok() {
			return rq, "", closeErr("request header tags cut short")
		}
	}
	if err := rq.req.ReadFrom(r.Src); err != nil {
		return rq, "", closeErr("parse %s v%d: %w", kmsg.NameForKey(rq.key), rq.version, err)
	}
	id := ""
	if clientID != nil {
		id = *clientID
	}
	return rq, id, nil
}

// handle parses and serves one request and returns its place in the
// response queue: ready bytes, or a deferred frame (Produce, including
// acks=0, which has no response but still waits for its batches so that
// a failed write closes the connection). A handler that returns no
// response takes no place.
func (c *conn) handle(body []byte) (outFrame, error) {
	if c.s.authRequired() && !c.authed && len(body) >= 2 {
		if key := int16(binary.BigEndian.Uint16(body)); !preAuth(key) {
			return outFrame{}, closeErr("API key %d (%s) before SASL authentication", key, kmsg.NameForKey(key))
		}
	}
	rq, clientID, err := parseRequest(body)
	if err != nil {
		return outFrame{}, err
	}
	c.clientID = clientID
	var resp kmsg.Response
	if rq.req == nil {
		resp = unsupportedApiVersions()
	} else if resp, err = lookup(rq.key).handle(c, rq.req); err != nil {
		c.takeReadBufs()()
		return outFrame{}, err
	}
	switch r := resp.(type) {
	case nil:
		return outFrame{}, nil
	case deferred:
		return outFrame{await: func() (net.Buffers, error) {
			resp, err := r.finish()
			if err != nil || resp == nil {
				return nil, err
			}
			return net.Buffers{encodeResponse(rq.key, rq.corr, resp)}, nil
		}}, nil
	case *kmsg.FetchResponse:
		// The frame points into the read buffers until it is written.
		return outFrame{bufs: encodeFetch(rq.corr, r, c.fetchData), release: c.takeReadBufs()}, nil
	}
	return outFrame{bufs: net.Buffers{encodeResponse(rq.key, rq.corr, resp)}}, nil
}

// deferred is a response that is complete only later: finish, called by
// the writer in request order, waits for it and returns it (nil for no
// response), or an error that closes the connection.
type deferred interface {
	finish() (kmsg.Response, error)
}

// readBufs lends fetch handlers buffers to read stored batches into; the
// response is written from them, after which they go back to the pool.
var readBufs = sync.Pool{New: func() any { return []byte(nil) }}

// borrowReadBuf returns a buffer for one partition read. Reader only.
func (c *conn) borrowReadBuf() []byte { return readBufs.Get().([]byte)[:0] }

// keepReadBuf records a buffer lent out for the current request.
func (c *conn) keepReadBuf(b []byte) { c.lent = append(c.lent, b) }

// takeReadBufs hands the current request's buffers to the returned
// function, which puts them back in the pool.
func (c *conn) takeReadBufs() func() {
	lent := c.lent
	c.lent = nil
	return func() {
		for _, b := range lent {
			putReadBuf(b)
		}
	}
}

// putReadBuf returns a read buffer to the pool (not a huge one).
func putReadBuf(b []byte) {
	if cap(b) > 0 && cap(b) <= 16<<20 {
		readBufs.Put(b[:0])
	}
}

// encodeResponse frames a response: size, correlation id, the header's
// empty tag section for flexible responses (never for ApiVersions, whose
// response header is always v0), and the body.
func encodeResponse(key int16, corr int32, resp kmsg.Response) []byte {
	b := make([]byte, 8, 64+dataSize(resp))
	binary.BigEndian.PutUint32(b[4:], uint32(corr))
	if resp.IsFlexible() && key != int16(kmsg.ApiVersions) {
		b = append(b, 0)
	}
	b = resp.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// readStep: a declared length is read in steps of at most this much.
const readStep = 1 << 20
