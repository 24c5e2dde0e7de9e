package amqp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one client connection. The reader goroutine parses frames and
// handles methods in order; the writer goroutine writes what the reader,
// the consumers' pumps and the confirmers queue on out, coalescing writes
// and sending heartbeats. out is bounded: a client that does not read
// stalls its consumers (their deliveries stay in flight, bounded by the
// prefetch), and after WriteTimeout it is disconnected (the written
// slow-consumer rule).
type conn struct {
	s      *Server
	nc     net.Conn
	fr     frameReader
	ctx    context.Context // ends when the connection closes
	cancel context.CancelFunc
	out    chan outItem
	hb     chan time.Duration // the negotiated heartbeat, for the writer

	closeOnce sync.Once
	closing   atomic.Bool   // connection.close sent: only close-ok is read now
	opened    atomic.Bool   // connection.open done
	frameMax  atomic.Uint32 // negotiated; bounds outgoing frames
	wg        sync.WaitGroup

	// Used by the reader only.
	user       string
	channelMax uint16
	heartbeat  time.Duration
	chans      map[uint16]*channel
}

// outItem is bytes for the writer; closeAfter makes it flush and close.
type outItem struct {
	b          []byte
	closeAfter bool
}

// outboundQueue bounds the items waiting for the writer.
const outboundQueue = 256

// closeWait bounds the wait for connection.close-ok.
const closeWait = 2 * time.Second

// protocolHeader is what an AMQP 0-9-1 client sends first (spec 4.2.2).
var protocolHeader = []byte("AMQP\x00\x00\x09\x01")

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, out: make(chan outItem, outboundQueue), hb: make(chan time.Duration, 1),
		chans: map[uint16]*channel{}}
	c.fr = frameReader{r: bufio.NewReaderSize(nc, 64<<10), max: frameMinSize}
	c.frameMax.Store(frameMinSize)
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	return c
}

// Drain and Abort are how the server stops c (netserve.Conn).
func (c *conn) Drain() { c.shutdown() }
func (c *conn) Abort() { c.close() }

// close closes the connection at once.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.nc.Close()
		c.s.conns.Remove(c)
	})
}

// shutdown asks the client to close (320 CONNECTION_FORCED); a connection
// still in its handshake is closed at once.
func (c *conn) shutdown() {
	if !c.opened.Load() {
		c.close()
		return
	}
	if c.closing.CompareAndSwap(false, true) {
		cl := &connectionClose{ReplyCode: codeConnectionForced, ReplyText: "CONNECTION_FORCED - broker shutting down"}
		c.send(appendMethod(nil, 0, cl))
		c.nc.SetReadDeadline(time.Now().Add(closeWait))
	}
}

// send queues b for the writer; false once the connection is closed.
func (c *conn) send(b []byte) bool {
	select {
	case c.out <- outItem{b: b}:
		return true
	case <-c.ctx.Done():
		return false
	}
}

func (c *conn) readLoop() {
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("amqp: panic in connection, closing it", "remote", c.nc.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
		}
		c.teardown()
		select { // the writer flushes what is queued, then closes
		case c.out <- outItem{closeAfter: true}:
		case <-c.ctx.Done():
		}
	}()
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.HandshakeTimeout))
	if err := c.handshake(); err != nil {
		c.fail(err)
		return
	}
	c.fr.max = c.frameMax.Load()
	for {
		c.setReadDeadline()
		f, err := c.fr.read()
		if err != nil {
			c.fail(err)
			return
		}
		if c.closing.Load() {
			if c.closeFrame(f) {
				return
			}
			continue
		}
		if err := c.dispatch(f); err != nil {
			if errors.Is(err, errConnClosed) {
				return
			}
			c.fail(err)
			return
		}
	}
}

var errConnClosed = errors.New("connection closed by the client")

// setReadDeadline allows two missed heartbeats (spec 4.2.7).
func (c *conn) setReadDeadline() {
	switch {
	case c.closing.Load():
		c.nc.SetReadDeadline(time.Now().Add(closeWait))
	case c.heartbeat > 0:
		c.nc.SetReadDeadline(time.Now().Add(2 * c.heartbeat))
	default:
		c.nc.SetReadDeadline(time.Time{})
	}
}

// fail ends the connection for err: an AMQP exception is sent as
// connection.close and the reader waits for close-ok; other errors (EOF,
// timeouts) end it at once.
func (c *conn) fail(err error) {
	var ae *amqpError
	if !errors.As(err, &ae) {
		if !errors.Is(err, io.EOF) && c.ctx.Err() == nil && !c.closing.Load() {
			c.s.log.Debug("amqp: read", "remote", c.nc.RemoteAddr(), "err", err)
		}
		return
	}
	c.s.log.Info("amqp: closing connection", "remote", c.nc.RemoteAddr(), "user", c.user, "code", ae.code, "text", ae.text)
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	cl := &connectionClose{ReplyCode: ae.code, ReplyText: ae.text, ClassId: ae.class, MethodId: ae.meth}
	if !c.send(appendMethod(nil, 0, cl)) {
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(closeWait)) // wait briefly for close-ok, so the client reads the close
	for range 64 {
		f, err := c.fr.read()
		if err != nil || c.closeFrame(f) {
			return
		}
	}
}

// closeFrame handles a frame read after connection.close was sent: it
// reports whether the connection is done (close-ok or close arrived).
func (c *conn) closeFrame(f frame) bool {
	if f.typ != frameMethod || f.channel != 0 {
		return false
	}
	m, err := decodeMethod(f.payload)
	if err != nil {
		return true
	}
	switch m.(type) {
	case *connectionCloseOk:
		return true
	case *connectionClose:
		c.send(appendMethod(nil, 0, &connectionCloseOk{}))
		return true
	}
	return false
}

// teardown ends every channel: consumers stop, unacknowledged deliveries
// go back to their queues, exclusive queues are deleted.
func (c *conn) teardown() {
	for id, ch := range c.chans {
		ch.teardown()
		delete(c.chans, id)
	}
	c.wg.Wait()
	c.s.reg.dropConn(c, c.s)
}

// recoverConn, deferred by a connection's goroutines, turns a panic into
// the end of that connection only.
func (c *conn) recoverConn(where string) {
	if r := recover(); r != nil {
		c.s.log.Error("amqp: panic, closing the connection", "in", where, "remote", c.nc.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
		c.close()
	}
}

func (c *conn) writeLoop() {
	defer c.close()
	defer c.recoverConn("writer")
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	var tick <-chan time.Time
	wrote := false
	for {
		select {
		case it := <-c.out:
			if !c.write(bw, it) {
				return
			}
			wrote = true
		case d := <-c.hb:
			if d > 0 {
				t := time.NewTicker(d / 2)
				defer t.Stop()
				tick = t.C
			}
		case <-tick:
			if !wrote && !c.write(bw, outItem{b: heartbeatFrame}) {
				return
			}
			wrote = false
		case <-c.ctx.Done():
			return
		}
	}
}

var heartbeatFrame = []byte{frameHeartbeat, 0, 0, 0, 0, 0, 0, frameEnd}

// write writes it and whatever else is queued, then flushes; false when
// the connection is done.
func (c *conn) write(bw *bufio.Writer, it outItem) bool {
	c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	for {
		if it.closeAfter {
			bw.Flush()
			return false
		}
		if _, err := bw.Write(it.b); err != nil {
			return false
		}
		select {
		case it = <-c.out:
			continue
		default:
		}
		return bw.Flush() == nil
	}
}
