package wire

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"connectrpc.com/connect/v2"
)

// serverStream is one call on a server connection: the server side of a
// connect stream. Its handler runs on a goroutine of its own (run).
type serverStream struct {
	c      *serverConn
	id     uint32
	proc   string
	in     *inbox
	out    *credit
	ctx    context.Context
	cancel context.CancelFunc
	info   *connect.CallInfo
	rb     bytes.Buffer // the message Receive decodes, over its bytes

	sendMu      sync.Mutex
	sentHeaders bool
}

func (c *serverConn) newStream(id uint32, o *openFrame) *serverStream {
	ctx, cancel := c.ctx, context.CancelFunc(func() {})
	if o.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	ctx, cancel2 := context.WithCancel(ctx)
	spec, ok := c.s.specs[o.procedure]
	if !ok {
		spec = connect.Spec{Procedure: o.procedure, StreamType: connect.StreamTypeBidi}
	}
	info := &connect.CallInfo{Spec: spec, PeerAddr: c.nc.RemoteAddr().String(), Protocol: Protocol,
		Codec: c.s.codec.Name(), RequestEncoding: connect.CompressionNameIdentity,
		ResponseEncoding: connect.CompressionNameIdentity}
	for k, vs := range o.header.All() {
		info.RequestHeader().SetValues(k, vs)
	}
	st := &serverStream{c: c, id: id, proc: o.procedure, in: newInbox(c.flow), out: newCredit(streamWindow),
		cancel: func() { cancel2(); cancel() }, info: info}
	st.ctx = context.WithValue(ctx, serverStreamKey{}, st)
	st.in.credit = st.giveCredit
	return st
}

// giveCredit sends the client n more bytes of credit for its messages.
func (st *serverStream) giveCredit(n int) {
	st.c.w.later(frameWindow, st.id, func(b []byte) []byte { return appendWindow(b, n) })
}

// Protocol is the name CallInfo.Protocol gives this transport.
const Protocol = "courier-wire"

// run serves the call and ends the stream with its outcome.
func (st *serverStream) run() {
	defer st.c.s.calls.Done()
	err := st.c.s.rpc.Call(st.ctx, st.proc, st.info, st)
	// A goroutine the handler left reading its stream stops, as it would
	// once an HTTP handler's request body closes.
	st.in.finish(connect.NewError(connect.CodeCanceled, "the call is over"), true)
	st.cancel()
	st.end(err)
	st.c.remove(st.id)
}

// Receive reads the next request message into msg.
func (st *serverStream) Receive(msg any) error {
	p, err := st.in.pop()
	if err != nil {
		return err
	}
	st.info.ReceiveStats = connect.MessageStats{Size: len(p)}
	st.rb = *bytes.NewBuffer(p)
	err = st.c.s.codec.UnmarshalRead(st.ctx, &st.rb, msg)
	st.rb = bytes.Buffer{}
	n := len(p)
	putMsgBuf(p)
	if g := st.in.consumed(n); g > 0 {
		st.giveCredit(g)
	}
	if err != nil {
		return connect.NewError(connect.CodeInvalidArgument, "unmarshal request: "+err.Error()).WithCause(err)
	}
	return nil
}

// SendHeaders sends the response headers unless they went already.
func (st *serverStream) SendHeaders() error {
	st.sendMu.Lock()
	defer st.sendMu.Unlock()
	if st.sentHeaders {
		return nil
	}
	st.sentHeaders = true
	return st.wrote(st.c.w.control(frameHeaders, st.id, st.putHeaders))
}

// putHeaders appends the response headers, or none if they would not
// fit in a frame (the client would take that for a broken connection).
func (st *serverStream) putHeaders(b []byte) []byte {
	h := st.info.ResponseHeader()
	if len(appendHeaders(nil, h)) > MaxControlBytes {
		h = &connect.Header{}
	}
	return appendHeaders(enc(b), h)
}

// Send sends msg as the next response message, with the headers first
// if they have not gone; it waits while the client's credit is spent.
func (st *serverStream) Send(msg any) error {
	buf := getBuf()
	defer putBuf(buf)
	if err := st.c.s.codec.MarshalWrite(st.ctx, buf, msg); err != nil {
		return connect.NewError(connect.CodeInternal, "marshal response: "+err.Error()).WithCause(err)
	}
	if cost := msgCost(buf.Len()); !st.out.spend(cost, st.ctx.Done()) || !st.c.flow.out.spend(cost, st.ctx.Done()) {
		return contextError(st.ctx)
	}
	st.sendMu.Lock()
	defer st.sendMu.Unlock()
	first := !st.sentHeaders
	st.sentHeaders = true
	st.info.SendStats = connect.MessageStats{Size: buf.Len()}
	return st.wrote(st.c.w.writeMsg(func(b []byte) []byte {
		if first {
			b = appendPayload(b, frameHeaders, st.id, st.putHeaders)
		}
		return appendFrame(b, frameMsg, st.id, buf.Len())
	}, buf.Bytes()))
}

// wrote turns a failed write into the error a handler sees.
func (st *serverStream) wrote(err error) error {
	if err != nil {
		return connect.NewError(connect.CodeUnavailable, "connection lost: "+err.Error()).WithCause(err)
	}
	return nil
}

// end sends the call's outcome (with the headers, if they never went).
func (st *serverStream) end(err error) {
	f := endFrame{trailer: *st.info.ResponseTrailer()}
	if err != nil {
		f.code, f.message, f.details = errorFields(err)
	}
	f.fit()
	st.sendMu.Lock()
	first := !st.sentHeaders
	st.sentHeaders = true
	st.sendMu.Unlock()
	_ = st.c.w.write(func(b []byte) []byte {
		if first {
			b = appendPayload(b, frameHeaders, st.id, st.putHeaders)
		}
		return appendPayload(b, frameEnd, st.id, f.append)
	}, false)
}

// errorFields is what an end carries for a handler's error: only an
// error the handler made (not one it got from a peer) keeps its message
// and details, as Connect's own transports do.
func errorFields(err error) (connect.Code, string, []*connect.ErrorDetail) {
	var ce *connect.Error
	switch {
	case errors.As(err, &ce) && !ce.IsRemote():
		return ce.Code(), ce.Message(), ce.Details()
	case errors.Is(err, context.Canceled):
		return connect.CodeCanceled, "", nil
	case errors.Is(err, context.DeadlineExceeded):
		return connect.CodeDeadlineExceeded, "", nil
	}
	return connect.CodeUnknown, "", nil
}

// contextError is the error of an operation cut short by ctx.
func contextError(ctx context.Context) error {
	err := context.Cause(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return connect.NewError(connect.CodeDeadlineExceeded, err.Error()).WithCause(err)
	}
	return connect.NewError(connect.CodeCanceled, err.Error()).WithCause(err)
}

// maxPooledBytes is the largest encode or read buffer kept for reuse:
// a batch of a thousand 1 KiB messages is over a megabyte, and
// allocating it anew costs clearing it.
const maxPooledBytes = 8 << 20

// bufs are the buffers messages are encoded into.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufs.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBytes {
		bufs.Put(b)
	}
}
