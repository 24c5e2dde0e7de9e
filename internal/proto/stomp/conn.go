package stomp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// lingerTimeout is how long a connection that sent its last frame (an
// ERROR, a DISCONNECT's RECEIPT) waits for the client to close, reading
// and dropping what it still sends, so that closing does not reset the
// connection before the client has read that frame.
const lingerTimeout = time.Second

// conn is one client connection. The reader (serve's goroutine) parses
// and handles frames in order and owns the session state below. What
// it answers (receipts, errors) goes through the confirmer, which first
// waits for the publishes queued before it to be durable; subscriptions'
// pumps queue MESSAGE frames directly. The writer writes the out queue.
type conn struct {
	s      *Server
	nc     net.Conn
	ctx    context.Context // ends when the connection closes
	cancel context.CancelFunc
	r      *frameReader
	out    *outQueue
	// confirms is the reader's ordered queue to the confirmer; its
	// capacity bounds the publishes not yet durable.
	confirms   chan confirmItem
	beatEvery  chan time.Duration // to the writer: heart-beat interval
	writerDone chan struct{}
	confDone   chan struct{}  // closed when the confirmer ends
	done       chan struct{}  // closed when serve returns
	wg         sync.WaitGroup // writer, confirmer, pumps
	closeOnce  sync.Once

	readIdle atomic.Int64 // read deadline per read, ns; 0: none
	stopRead atomic.Bool  // the reader must stop (drain, or a last frame is out)
	draining atomic.Bool  // Shutdown asked the connection to finish
	failed   atomic.Bool  // an ERROR is queued: handle no more frames

	// Reader-owned session state.
	connected bool
	version   string
	esc       escaping                 // for frames to the client, fixed at CONNECT
	session   string                   // set at creation
	subs      map[string]*subscription // by client id
	subsByNum map[uint64]*subscription // by the number in ack ids
	nextSub   uint64
	txs       map[string]*transaction
	txBytes   int
	queues    map[string]bool // queues this connection made sure exist
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		s: s, nc: nc,
		out:        newOutQueue(s.opts.WriteQueueBytes),
		confirms:   make(chan confirmItem, s.opts.MaxPendingPublishes),
		beatEvery:  make(chan time.Duration, 1),
		writerDone: make(chan struct{}),
		confDone:   make(chan struct{}),
		done:       make(chan struct{}),
		subs:       map[string]*subscription{},
		subsByNum:  map[uint64]*subscription{},
		txs:        map[string]*transaction{},
		queues:     map[string]bool{},
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.session = newSession()
	c.r = newFrameReader(deadlineReader{c}, s.opts.limits())
	return c
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer close(c.done)
	// CONNECT must have arrived by then, however slowly it comes.
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.ConnectTimeout))
	c.goSafe(c.writeLoop)
	c.goSafe(c.confirmLoop)
	graceful := c.readLoop()
	close(c.confirms)
	if graceful {
		select {
		case <-c.writerDone:
			c.linger()
		case <-c.ctx.Done():
		}
	}
	c.abort()
	c.endSubs()
	c.wg.Wait()
	c.s.conns.Remove(c)
}

// goSafe runs fn on a goroutine that serve waits for; a panic in it
// closes only this connection.
func (c *conn) goSafe(fn func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				c.s.log.Error("stomp: panic in connection, closing it", "remote", c.nc.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
				c.abort()
			}
		}()
		fn()
	}()
}

// abort closes the connection at once; queued frames are dropped.
// Drain and Abort are how the server stops c (netserve.Conn).
func (c *conn) Drain() { c.drain() }
func (c *conn) Abort() { c.abort() }

func (c *conn) abort() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.out.close()
		c.nc.Close()
	})
}

// drain asks the reader to stop: the connection answers what it has
// read, sends an ERROR saying the server is shutting down and closes.
func (c *conn) drain() {
	c.draining.Store(true)
	c.stopReading()
}

// stopReading ends the reader's current and next reads.
func (c *conn) stopReading() {
	c.stopRead.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

// linger waits, after the last frame was written, for the client to
// close, dropping what it sends.
func (c *conn) linger() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, io.LimitReader(c.nc, 1<<20))
}

var errStopRead = errors.New("stomp: reading stopped")

// deadlineReader reads the socket with a fresh read deadline before
// each read, so that any byte (a frame or a heart-beat EOL) restarts
// the wait. It sets the deadline before checking stopRead, so that a
// concurrent stopReading is never overwritten unseen.
type deadlineReader struct{ c *conn }

func (d deadlineReader) Read(p []byte) (int, error) {
	if idle := d.c.readIdle.Load(); idle > 0 {
		d.c.nc.SetReadDeadline(time.Now().Add(time.Duration(idle)))
	}
	if d.c.stopRead.Load() {
		return 0, errStopRead
	}
	return d.c.nc.Read(p)
}

// setReadIdle sets the read deadline rule after CONNECT: d per read,
// or none.
func (c *conn) setReadIdle(d time.Duration) {
	c.readIdle.Store(int64(d))
	c.nc.SetReadDeadline(time.Time{})
	if c.stopRead.Load() {
		c.nc.SetReadDeadline(time.Now())
	}
}

// readLoop reads and handles frames until the connection ends. It
// reports whether a last frame was queued (an ERROR, a DISCONNECT's
// answer), which the connection writes before it closes.
func (c *conn) readLoop() (graceful bool) {
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("stomp: panic in connection, closing it", "remote", c.nc.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
			graceful = false
		}
	}()
	for {
		f, err := c.r.ReadFrame()
		if c.stopRead.Load() || c.failed.Load() {
			if !c.failed.Load() && c.draining.Load() {
				c.fail(&ProtocolError{Msg: "server shutting down", Detail: "the server is shutting down; reconnect later"}, "")
			}
			return true
		}
		if err != nil {
			if pe, ok := isProtoErr(err); ok {
				c.fail(pe, "")
				return true
			}
			if !errors.Is(err, io.EOF) && c.ctx.Err() == nil {
				c.s.log.Debug("stomp: read", "remote", c.nc.RemoteAddr(), "err", err)
			}
			return false
		}
		if !c.handle(f) {
			return true
		}
	}
}

// confirmItem is one step of the confirmer: wait for a publish to be
// durable (when wait is set), then queue frame (when set).
type confirmItem struct {
	wait    func(context.Context) (broker.PubAck, error)
	receipt string // of the SEND being waited for, for its ERROR
	queue   string // the queue the SEND went to, if any
	frame   []byte
	last    bool
}

// queueConfirm hands it to the confirmer, in order. Reader only.
func (c *conn) queueConfirm(it confirmItem) {
	select {
	case c.confirms <- it:
	case <-c.confDone: // it ended on a failed publish; the reader stops next
	case <-c.ctx.Done():
	}
}

// confirmLoop waits for publishes in the order they were made and
// queues the frames that follow them: a RECEIPT is written only once
// every SEND before it is durable. A failed publish is an ERROR.
func (c *conn) confirmLoop() {
	defer close(c.confDone)
	for {
		var it confirmItem
		var ok bool
		select {
		case it, ok = <-c.confirms:
			if !ok {
				return
			}
		case <-c.ctx.Done():
			return
		}
		if it.wait != nil {
			ack, err := it.wait(c.ctx)
			if err == nil && it.queue != "" && ack.Stream == "" {
				// The queue's stream was deleted since this connection
				// made sure of it: the message went nowhere.
				err = fmt.Errorf("queue %s: no stream captures its subject (deleted?), the message was not stored", it.queue)
			}
			if err != nil {
				if c.ctx.Err() == nil {
					c.failAsync(publishError(err), it.receipt)
				}
				return
			}
		}
		if it.frame != nil || it.last {
			if c.out.push(c.ctx, nil, outItem{frame: it.frame, last: it.last}) != nil || it.last {
				return
			}
		}
	}
}

// fail answers bad input with an ERROR frame (after the answers to the
// frames before it) and marks the connection to close. Reader only.
func (c *conn) fail(pe *ProtocolError, receipt string) {
	if c.failed.Swap(true) {
		return
	}
	c.logError(pe)
	c.queueConfirm(confirmItem{frame: c.errorFrame(pe, receipt), last: true})
}

// failAsync is fail from a goroutine other than the reader: the ERROR
// goes straight to the out queue, and the reader is stopped.
func (c *conn) failAsync(pe *ProtocolError, receipt string) {
	if c.failed.Swap(true) {
		return
	}
	c.logError(pe)
	c.out.push(c.ctx, nil, outItem{frame: c.errorFrame(pe, receipt), last: true})
}

func (c *conn) logError(pe *ProtocolError) {
	c.s.log.Info("stomp: closing connection with ERROR", "remote", c.nc.RemoteAddr(), "session", c.session, "err", pe)
}

// errorFrame is an ERROR with a message header, the receipt-id of the
// frame it answers, and the detail as a text body.
func (c *conn) errorFrame(pe *ProtocolError, receipt string) []byte {
	w := frameBuilder{esc: c.esc}
	w.start(cmdError)
	w.header(hdrMessage, pe.Msg)
	if receipt != "" {
		w.header(hdrReceiptID, receipt)
	}
	if pe.Version != "" {
		w.header(hdrVersion, pe.Version)
	}
	w.header(hdrContentType, "text/plain")
	return w.end([]byte(pe.Detail + "\n"))
}

// receiptFrame is a RECEIPT for receipt.
func (c *conn) receiptFrame(receipt string) []byte {
	w := frameBuilder{esc: c.esc}
	w.start(cmdReceipt)
	w.header(hdrReceiptID, receipt)
	return w.end(nil)
}
