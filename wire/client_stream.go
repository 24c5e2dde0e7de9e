package wire

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect/v2"
)

// clientStream is the client side of one call. The caller's goroutine
// writes the frames itself (see writer); the connection's reader queues
// what arrives for Receive.
type clientStream struct {
	c      *clientConn
	id     uint32 // numbered when it opens (under sendMu)
	spec   connect.Spec
	ctx    context.Context
	info   *connect.CallInfo // nil when ctx carries none
	in     *inbox
	out    *credit
	stopAF func() bool  // stops the context watch
	rb     bytes.Buffer // the message Receive decodes, over its bytes

	sendMu    sync.Mutex
	opened    atomic.Bool // the open frame went (set under sendMu)
	openFrame []byte      // its payload
	closeSent bool
	held      *bytes.Buffer // the one request of a unary or server-stream call, sent with CloseSend

	mu          sync.Mutex // what the reader sets
	header      *connect.Header
	gotHeaders  bool // OnHeaders was called
	trailer     connect.Header
	over        bool          // ended: by the server, the connection, or the caller
	overErr     error         // why, for Send (io.EOF after a server's end)
	done        chan struct{} // closed when over
	headersRead bool          // the headers were copied to info
}

func newClientStream(c *clientConn, ctx context.Context, spec connect.Spec) *clientStream {
	info, _ := connect.CallInfoForClientContext(ctx)
	st := &clientStream{c: c, spec: spec, ctx: ctx, info: info, in: newInbox(c.flow),
		out: newCredit(streamWindow), done: make(chan struct{})}
	if info != nil {
		info.Spec, info.Protocol, info.Codec = spec, Protocol, c.t.o.Codec.Name()
		info.PeerAddr = c.nc.RemoteAddr().String()
		info.RequestEncoding, info.ResponseEncoding = connect.CompressionNameIdentity, connect.CompressionNameIdentity
	}
	st.in.credit = st.giveCredit
	if fn := inlineFrom(ctx); fn != nil {
		st.in.inline = inlineDecoder(func(b *bytes.Buffer, msg any) error {
			return c.t.o.Codec.UnmarshalRead(ctx, b, msg)
		}, fn)
	}
	st.stopAF = context.AfterFunc(ctx, func() { st.abandon(contextError(ctx)) })
	return st
}

// giveCredit sends the server n more bytes of credit for its messages.
func (st *clientStream) giveCredit(n int) {
	st.c.w.later(frameWindow, st.id, func(b []byte) []byte { return appendWindow(b, n) })
}

// single reports a call with one request message, which is held until
// CloseSend so that open, message and close-send go in one write.
func (st *clientStream) single() bool { return st.spec.StreamType&connect.StreamTypeClient == 0 }

// flush writes, in one go, the open frame (if it has not gone), the held
// request and close-send if asked. Caller holds sendMu.
func (st *clientStream) flush(closeSend bool) error {
	if st.opened.Load() && st.held == nil && !closeSend {
		return nil
	}
	if st.isOver() {
		if closeSend && st.sendError() == io.EOF {
			return nil // the server ended the stream: nothing to close
		}
		return st.sendError()
	}
	held := st.held
	if held != nil && !st.spend(held.Len()) {
		return st.sendError()
	}
	open := !st.opened.Load()
	if open {
		o, err := st.openPayload()
		if err != nil {
			return err
		}
		st.openFrame = o
		st.c.openMu.Lock()
		defer st.c.openMu.Unlock()
		if !st.c.register(st) {
			err := connect.NewError(connect.CodeUnavailable, "connection to "+st.c.t.addr+" closed before the stream opened")
			st.finish(err, err, true)
			return err
		}
	}
	st.opened.Store(true)
	st.held = nil
	err := st.c.w.write(func(b []byte) []byte {
		if open {
			b = append(appendFrame(b, frameOpen, st.id, len(st.openFrame)), st.openFrame...)
		}
		if held != nil {
			b = appendFrame(b, frameMsg, st.id, held.Len())
			b = append(b, held.Bytes()...)
		}
		if closeSend {
			b = appendFrame(b, frameCloseSend, st.id, 0)
		}
		return b
	}, false)
	if held != nil {
		putBuf(held)
	}
	return st.wrote(err)
}

// openPayload is the open frame's payload; request headers too large
// for it fail the call here, not the connection at the server.
func (st *clientStream) openPayload() ([]byte, error) {
	o := openFrame{procedure: st.spec.Procedure}
	if d, ok := st.ctx.Deadline(); ok {
		o.timeout = max(time.Until(d), time.Millisecond)
	}
	if st.info != nil {
		o.header = *st.info.RequestHeader()
	}
	p := o.append(nil)
	if len(p) > MaxControlBytes {
		return nil, connect.NewError(connect.CodeResourceExhausted,
			fmt.Sprintf("request headers of %d bytes are over the limit of %d", len(p), MaxControlBytes))
	}
	return p, nil
}

func (st *clientStream) isOver() bool {
	select {
	case <-st.done:
		return true
	default:
		return false
	}
}

// SendHeaders opens the stream.
func (st *clientStream) SendHeaders() error {
	st.sendMu.Lock()
	defer st.sendMu.Unlock()
	if st.opened.Load() {
		return nil
	}
	return st.flush(false)
}

// Send sends msg, waiting while the server's credit is spent (without
// holding what Receive needs).
func (st *clientStream) Send(msg any) error {
	if st.isOver() {
		return st.sendError()
	}
	buf := getBuf()
	if err := st.c.t.o.Codec.MarshalWrite(st.ctx, buf, msg); err != nil {
		putBuf(buf)
		return connect.NewError(connect.CodeInternal, "marshal request: "+err.Error()).WithCause(err)
	}
	if st.info != nil {
		st.info.SendStats = connect.MessageStats{Size: buf.Len()}
	}
	st.sendMu.Lock()
	if st.closeSent {
		st.sendMu.Unlock()
		putBuf(buf)
		return connect.NewError(connect.CodeInternal, "send after close-send")
	}
	if st.single() && !st.opened.Load() && st.held == nil {
		st.held = buf
		st.sendMu.Unlock()
		return nil
	}
	err := st.flush(false)
	st.sendMu.Unlock()
	defer putBuf(buf)
	if err != nil {
		return err
	}
	if !st.spend(buf.Len()) {
		return st.sendError()
	}
	return st.wrote(st.c.w.writeMsg(func(b []byte) []byte {
		return appendFrame(b, frameMsg, st.id, buf.Len())
	}, buf.Bytes()))
}

// spend waits for the stream's and the connection's credit for a
// message of n bytes (false: the stream is over).
func (st *clientStream) spend(n int) bool {
	return st.out.spend(msgCost(n), st.done) && st.c.flow.out.spend(msgCost(n), st.done)
}

// CloseSend tells the server no more messages come.
func (st *clientStream) CloseSend() error {
	st.sendMu.Lock()
	defer st.sendMu.Unlock()
	if st.closeSent {
		return nil
	}
	st.closeSent = true
	return st.flush(true)
}

// Receive reads the next response message into msg; io.EOF after the
// last.
func (st *clientStream) Receive(msg any) error {
	if !st.opened.Load() {
		st.sendMu.Lock()
		err := st.flush(false)
		st.sendMu.Unlock()
		if err != nil {
			return err
		}
	}
	p, err := st.in.pop()
	st.copyHeaders()
	if err == io.EOF && st.spec.StreamType&connect.StreamTypeServer == 0 {
		err = connect.NewError(connect.CodeUnimplemented, "unary response has no message")
	}
	if err != nil {
		st.receiveEnded(err)
		return err
	}
	if st.spec.StreamType&connect.StreamTypeServer == 0 {
		// One response: read on to the end, for its trailers or error.
		if q, err := st.in.pop(); err != io.EOF {
			if err == nil {
				st.in.consumed(len(q))
				err = connect.NewError(connect.CodeUnimplemented, "unary response has more than one message")
				st.abandon(err)
			}
			st.receiveEnded(err)
			return err
		}
		st.receiveEnded(io.EOF)
	}
	if st.info != nil {
		st.info.ReceiveStats = connect.MessageStats{Size: len(p)}
	}
	st.rb = *bytes.NewBuffer(p)
	err = st.c.t.o.Codec.UnmarshalRead(st.ctx, &st.rb, msg)
	st.rb = bytes.Buffer{}
	n := len(p)
	putMsgBuf(p)
	if g := st.in.consumed(n); g > 0 {
		st.giveCredit(g)
	}
	if err != nil {
		return connect.NewError(connect.CodeInternal, "unmarshal response: "+err.Error()).WithCause(err)
	}
	return nil
}

// Close abandons the stream unless it is over.
func (st *clientStream) Close() error {
	err := connect.NewError(connect.CodeCanceled, "stream closed")
	st.abandon(err)
	st.in.finish(err, true) // unread messages of an ended stream go too
	st.in.setInline(nil)    // and no inline call runs after Close
	st.release()
	return nil
}

// copyHeaders puts the response headers on the call's info once.
func (st *clientStream) copyHeaders() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.headersRead || st.header == nil || st.info == nil {
		return
	}
	st.headersRead = true
	for k, vs := range st.header.All() {
		st.info.ResponseHeader().SetValues(k, vs)
	}
}

func (st *clientStream) release() { st.stopAF() }

// receiveEnded is the receive side's end: on a clean one the trailers go to
// the call's info; either way the stream's resources go.
func (st *clientStream) receiveEnded(err error) {
	if err == io.EOF && st.info != nil {
		st.mu.Lock()
		for k, vs := range st.trailer.All() {
			st.info.ResponseTrailer().SetValues(k, vs)
		}
		st.mu.Unlock()
	}
	st.release()
}

// The reader's side.

// headers records the response headers.
func (st *clientStream) headers(h *connect.Header) {
	st.mu.Lock()
	first := !st.gotHeaders
	st.header, st.gotHeaders = h, true
	st.mu.Unlock()
	if first && st.c.t.o.OnHeaders != nil {
		st.c.t.o.OnHeaders(st.ctx, h, nil)
	}
}

// endFrom ends the stream with the server's end frame.
func (st *clientStream) endFrom(f *endFrame) {
	err := f.err()
	st.mu.Lock()
	st.trailer = f.trailer
	st.mu.Unlock()
	if err == nil {
		err = io.EOF
	}
	st.finish(err, io.EOF, false)
}

// ended ends the stream because the connection did.
func (st *clientStream) ended(err error) { st.finish(err, err, false) }

// tooBig fails the stream over a response larger than the limit.
func (st *clientStream) tooBig(n int) {
	st.abandon(connect.NewError(connect.CodeResourceExhausted,
		fmt.Sprintf("response message of %d bytes is over the limit of %d bytes", n, st.c.t.o.MaxMessageBytes)))
}

// abandon ends the stream from the client's side: pending calls return
// err, and the server is told.
func (st *clientStream) abandon(err error) {
	if !st.finish(err, err, true) {
		return
	}
	st.sendMu.Lock() // a flush under way has numbered and opened it
	opened, id := st.opened.Load(), st.id
	st.sendMu.Unlock()
	if opened {
		st.c.remove(id)
		st.c.w.later(frameCancel, id, nil)
	}
}

// finish marks the stream over, unless it is already (false): Receive
// gets recvErr (after what is queued, unless abort), Send gets sendErr.
func (st *clientStream) finish(recvErr, sendErr error, abort bool) bool {
	st.mu.Lock()
	if st.over {
		st.mu.Unlock()
		return false
	}
	st.over, st.overErr = true, sendErr
	first := !st.gotHeaders
	st.gotHeaders = true
	close(st.done)
	st.mu.Unlock()
	st.in.finish(recvErr, abort)
	if first && st.c.t.o.OnHeaders != nil {
		herr := recvErr
		if herr == io.EOF {
			herr = nil
		}
		st.c.t.o.OnHeaders(st.ctx, &connect.Header{}, herr)
	}
	return true
}

// sendError is what Send returns on a stream that is over.
func (st *clientStream) sendError() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.overErr == nil {
		return io.EOF
	}
	return st.overErr
}

// wrote turns a failed write into the call's error.
func (st *clientStream) wrote(err error) error {
	if err != nil {
		return connect.NewError(connect.CodeUnavailable, "connection to "+st.c.t.addr+" lost: "+err.Error()).WithCause(err)
	}
	return nil
}
