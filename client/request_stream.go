package client

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"connectrpc.com/connect/v2"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/wire"
)

// Requests go over one RequestStream per client that stays open: a
// request is one frame each way on it, where a unary Request costs a new
// HTTP/2 stream. Each request gets an id; a receiver hands each answer to
// the request waiting for that id (answers come in any order). Over wire
// the connection's reader does that itself (wire.WithInline), and the
// receiver only sees the stream's end.
//
// When the stream cannot carry a request (it broke before the answer, or
// the server lacks RequestStream), Request makes a unary Request call
// instead, as it would retry one.

// requestAnswer is a request's answer (its reply, or why it failed), or
// why the stream could not give one (broke).
type requestAnswer struct {
	reply  *Message
	failed *courierv1.Error
	broke  error
}

// requestStream is a client's stream for requests.
type requestStream struct {
	mu      sync.Mutex
	cur     *requestConn
	nextID  uint64
	waiting map[uint64]chan requestAnswer // by id, on cur
	unary   bool                          // the server lacks RequestStream
}

// requestConn is one stream of a requestStream.
type requestConn struct {
	st     courierv1connect.MessagingServiceRequestStreamClientStream
	cancel context.CancelFunc
}

// request sends req on the stream and waits for its reply; ok is false
// when the stream could not carry it.
func (r *requestStream) request(ctx context.Context, c *Client, req *courierv1.RequestStreamRequest) (reply *Message, ok bool, err error) {
	id, ch := r.send(c, req)
	if ch == nil {
		return nil, false, nil
	}
	select {
	case a := <-ch:
		switch {
		case a.broke != nil:
			return nil, false, nil
		case a.failed != nil:
			return nil, true, requestError(a.failed)
		}
		return a.reply, true, nil
	case <-ctx.Done():
		r.forget(id)
		return nil, true, ctx.Err()
	}
}

// send puts req on the stream (opening one if there is none) under a new
// id; a nil channel means the stream cannot take it.
func (r *requestStream) send(c *Client, req *courierv1.RequestStreamRequest) (uint64, chan requestAnswer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unary || (r.cur == nil && !r.open(c)) {
		return 0, nil
	}
	r.nextID++
	req.Id = r.nextID
	ch := make(chan requestAnswer, 1)
	r.waiting[req.Id] = ch
	if err := r.cur.st.Send(req); err != nil && !errors.Is(err, io.EOF) {
		r.cur.cancel()
	}
	// When Send failed, the receiver ends every request still waiting on
	// the stream, this one too, once it learns why the stream ended (a
	// server without RequestStream, say: io.EOF from Send, the reason
	// from Receive).
	return req.Id, ch
}

// forget drops a request whose caller stopped waiting.
func (r *requestStream) forget(id uint64) {
	r.mu.Lock()
	delete(r.waiting, id)
	r.mu.Unlock()
}

// open starts a stream and its receiver. Caller holds r.mu.
func (r *requestStream) open(c *Client) bool {
	open := func(ctx context.Context) (courierv1connect.MessagingServiceRequestStreamClientStream, error) {
		var dec msgDecoder // the stream's, on the connection's reader
		return c.msg.RequestStream(wire.WithInline(ctx, func(decode func(any) error) bool {
			return r.inline(&dec, decode)
		}))
	}
	st, cancel, ok := openStream(c, open,
		func(st courierv1connect.MessagingServiceRequestStreamClientStream, cancel context.CancelFunc) {
			r.receive(&requestConn{st: st, cancel: cancel})
		})
	if ok {
		r.cur, r.waiting = &requestConn{st: st, cancel: cancel}, map[uint64]chan requestAnswer{}
	}
	return ok
}

// receive hands each answer to its request until the stream ends, then
// ends the requests left and forgets the stream.
func (r *requestStream) receive(rc *requestConn) {
	defer rc.cancel()
	var dec msgDecoder
	var err error
	for {
		var res *courierv1.RequestStreamResponse
		if res, err = rc.st.Receive(); err != nil {
			break
		}
		id, reply, failed, derr := dec.answer(res)
		if err = derr; err != nil {
			break
		}
		r.deliver(id, requestAnswer{reply: reply, failed: failed})
	}
	r.mu.Lock()
	left := r.waiting
	r.waiting, r.cur = nil, nil
	if connect.CodeOf(err) == connect.CodeUnimplemented {
		r.unary = true
	}
	r.mu.Unlock()
	for _, ch := range left {
		ch <- requestAnswer{broke: err}
	}
}

// inline hands an answer to its request on the connection's reader
// (wire.InlineFunc), saving the receiver's wake-up; what does not decode
// is left to the receiver, which ends the stream over it.
func (r *requestStream) inline(dec *msgDecoder, decode func(any) error) bool {
	res := new(courierv1.RequestStreamResponse)
	if decode(res) != nil {
		return false
	}
	id, reply, failed, err := dec.answer(res)
	if err != nil {
		return false
	}
	r.deliver(id, requestAnswer{reply: reply, failed: failed})
	return true
}

// deliver hands a to the request waiting for answer id, if it still
// waits (its channel has room for its one answer).
func (r *requestStream) deliver(id uint64, a requestAnswer) {
	r.mu.Lock()
	ch := r.waiting[id]
	delete(r.waiting, id)
	r.mu.Unlock()
	if ch != nil {
		ch <- a
	}
}

// requestError is a failed request's error as a unary Request reports it:
// the reason is not repeated in the message.
func requestError(pe *courierv1.Error) *Error {
	e := batchItemError(pe)
	e.Message = strings.TrimPrefix(strings.TrimPrefix(e.Message, e.Reason), ": ")
	return e
}
