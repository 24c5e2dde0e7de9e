package client

import (
	"context"
	"sync"

	"connectrpc.com/connect/v2"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
)

// Replies go over one PublishStream per client that stays open: a reply
// is one small frame each way on it, where a unary Publish costs a new
// HTTP/2 stream (headers both ways, a goroutine on each side of the
// connection). The caller sends on the stream itself (no goroutine in
// between) and a receiver hands each answer, in order, to the reply
// waiting for it (the server answers a stream's batches in order).
//
// When the stream cannot carry a reply (it broke before the answer, or
// the server lacks PublishStream), Reply publishes it with a unary
// Publish and its retries. A reply stored twice that way is harmless: a
// requester takes the first reply on its inbox, which is gone after it.

// replyWait is one reply sent on the stream, waiting for its answer.
type replyWait struct {
	failed error // the server refused the reply
	broke  error // the stream ended before the answer
	done   chan struct{}
}

// replyStream is a client's stream for replies.
type replyStream struct {
	mu      sync.Mutex
	cur     *replyConn   // the open stream, nil when none
	waiting []*replyWait // sent on cur, unanswered, in order
	unary   bool         // the server lacks PublishStream
}

// replyConn is one stream of a replyStream.
type replyConn struct {
	st     courierv1connect.MessagingServicePublishStreamClientStream
	cancel context.CancelFunc
}

// reply publishes m (its subject the reply subject) on the reply stream,
// or with a unary Publish when the stream cannot carry it.
func (c *Client) reply(ctx context.Context, m *Message) error {
	if c.isClosed() {
		return errorf(ErrClosed, "client is closed")
	}
	if _, ok := ctx.Deadline(); !ok && c.o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		defer cancel()
	}
	if w := c.replies.send(c, m); w != nil {
		select {
		case <-w.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if w.broke == nil {
			return w.failed
		}
	}
	_, err := c.Publish(ctx, m)
	return err
}

// send puts m on the stream, opening one if there is none; nil means the
// stream cannot take it.
func (r *replyStream) send(c *Client, m *Message) *replyWait {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unary || (r.cur == nil && !r.open(c)) {
		return nil
	}
	w := &replyWait{done: make(chan struct{})}
	r.waiting = append(r.waiting, w)
	req := &courierv1.PublishStreamRequest{Publishes: []*courierv1.PublishRequest{{Message: m.toProto()}}}
	if err := r.cur.st.Send(req); err != nil {
		r.waiting = r.waiting[:len(r.waiting)-1]
		r.cur.cancel() // the receiver ends the others and forgets the stream
		return nil
	}
	return w
}

// open starts a stream and its receiver. Caller holds r.mu.
func (r *replyStream) open(c *Client) bool {
	st, cancel, ok := openStream(c, c.msg.PublishStream,
		func(st courierv1connect.MessagingServicePublishStreamClientStream, cancel context.CancelFunc) {
			r.receive(&replyConn{st: st, cancel: cancel})
		})
	if ok {
		r.cur = &replyConn{st: st, cancel: cancel}
	}
	return ok
}

// receive hands the answers to the waiting replies in order until the
// stream ends, then ends those left and forgets the stream.
func (r *replyStream) receive(rc *replyConn) {
	defer rc.cancel()
	var dec resultDecoder
	var err error
	for err == nil {
		var res *courierv1.PublishStreamResponse
		var results []*courierv1.PublishResult
		if res, err = rc.st.Receive(); err == nil {
			if results, err = dec.results(res); err == nil {
				err = r.answer(results)
			}
		}
	}
	r.mu.Lock()
	left := r.waiting
	r.waiting, r.cur = nil, nil
	if connect.CodeOf(err) == connect.CodeUnimplemented {
		r.unary = true
	}
	r.mu.Unlock()
	for _, w := range left {
		w.broke = err
		close(w.done)
	}
}

// answer hands results to the oldest waiting replies.
func (r *replyStream) answer(results []*courierv1.PublishResult) error {
	for _, res := range results {
		r.mu.Lock()
		if len(r.waiting) == 0 {
			r.mu.Unlock()
			return errorf(ErrInternal, "the server answered a reply that was not sent")
		}
		w := r.waiting[0]
		r.waiting = r.waiting[1:]
		r.mu.Unlock()
		if e := res.GetError(); e != nil {
			w.failed = batchItemError(e)
		}
		close(w.done)
	}
	return nil
}
