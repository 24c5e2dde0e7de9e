package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"connectrpc.com/connect/v2"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
)

// Replies go over one ReplyStream per client that stays open. Reply sends
// the reply on it (no goroutine in between) and returns: as with a core
// publish, nobody acknowledges a reply to its responder, and its requester
// may have gone. The server publishes each reply as it arrives and
// answers the published ones together a few milliseconds later; until
// then the client keeps each reply, and a receiver publishes the ones
// left unanswered again, with a unary Publish and its retries, when the
// stream breaks, so that a server restart loses none (a requester takes
// the first reply on its inbox, so one stored twice is harmless). A reply
// the server refuses is answered at once and logged: the Reply that sent
// it has returned.
//
// When no stream can carry a reply (the server lacks ReplyStream, or one
// cannot be opened), Reply publishes it with a unary Publish and returns
// its error.

// replyFlushWait bounds how long Close waits for the replies kept to be
// answered.
const replyFlushWait = 2 * time.Second

// maxUnanswered bounds the replies kept for their answer; Reply waits
// for answers beyond it.
const maxUnanswered = 4096

// sentReply is a reply kept until the server answers it.
type sentReply struct {
	id uint64
	m  *Message
}

// replyStream is a client's stream for replies.
type replyStream struct {
	mu         sync.Mutex
	cur        *replyConn  // the open stream, nil when none
	nextID     uint64      // on cur
	unanswered []sentReply // sent on cur, in id order
	room       chan struct{}
	unary      bool // the server lacks ReplyStream
}

// replyConn is one stream of a replyStream.
type replyConn struct {
	st     courierv1connect.MessagingServiceReplyStreamClientStream
	cancel context.CancelFunc
	ended  chan struct{} // closed when its receiver is done
}

// reply publishes m (its subject the reply subject) on the reply stream,
// or with a unary Publish when the stream cannot carry it.
func (c *Client) reply(ctx context.Context, m *Message) error {
	if c.isClosed() {
		return errorf(ErrClosed, "client is closed")
	}
	if ok, err := c.replies.send(ctx, c, m); ok || err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok && c.o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		defer cancel()
	}
	_, err := c.Publish(ctx, m)
	return err
}

// send puts m on the stream, opening one if there is none, and keeps it
// until answered; ok is false when no stream can take it. It waits while
// maxUnanswered replies are kept.
func (r *replyStream) send(ctx context.Context, c *Client, m *Message) (ok bool, err error) {
	r.mu.Lock()
	for len(r.unanswered) >= maxUnanswered {
		room := r.room
		r.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		r.mu.Lock()
	}
	defer r.mu.Unlock()
	if r.unary || (r.cur == nil && !r.open(c)) {
		return false, nil
	}
	r.nextID++
	kept := *m // the caller may reuse its buffers once Reply returns
	kept.Key, kept.Payload, kept.Headers = bytes.Clone(m.Key), bytes.Clone(m.Payload), slices.Clone(m.Headers)
	r.unanswered = append(r.unanswered, sentReply{id: r.nextID, m: &kept})
	if err := r.cur.st.Send(&courierv1.ReplyStreamRequest{Id: r.nextID, Message: m.toProto()}); err != nil && !errors.Is(err, io.EOF) {
		r.cur.cancel()
	}
	// When Send failed, the receiver publishes what is unanswered, this
	// one too, once it learns why the stream ended (a server without
	// ReplyStream, say: io.EOF from Send, the reason from Receive).
	return true, nil
}

// open starts a stream and its receiver. Caller holds r.mu.
func (r *replyStream) open(c *Client) bool {
	ended := make(chan struct{})
	st, cancel, ok := openStream(c, c.msg.ReplyStream,
		func(st courierv1connect.MessagingServiceReplyStreamClientStream, cancel context.CancelFunc) {
			defer close(ended)
			r.receive(c, &replyConn{st: st, cancel: cancel})
		})
	if ok {
		r.cur, r.nextID, r.room = &replyConn{st: st, cancel: cancel, ended: ended}, 0, make(chan struct{})
	}
	return ok
}

// receive takes the answers until the stream ends, then publishes again
// the replies left unanswered and forgets the stream.
func (r *replyStream) receive(c *Client, rc *replyConn) {
	defer rc.cancel()
	var err error
	for {
		var res *courierv1.ReplyStreamResponse
		if res, err = rc.st.Receive(); err != nil {
			break
		}
		r.answered(c, res)
	}
	r.mu.Lock()
	left := r.unanswered
	r.unanswered, r.cur = nil, nil
	if connect.CodeOf(err) == connect.CodeUnimplemented {
		r.unary = true
	}
	close(r.room)
	r.mu.Unlock()
	for _, s := range left {
		ctx, cancel := context.WithTimeout(c.ctx, c.o.timeout)
		if _, err := c.Publish(ctx, s.m); err != nil {
			c.o.log.Warn("courier: a reply sent on a broken stream could not be published again", "subject", s.m.Subject, "err", err)
		}
		cancel()
	}
}

// answered drops the replies res answers: every one up to its id, or
// the one it refuses (logged).
func (r *replyStream) answered(c *Client, res *courierv1.ReplyStreamResponse) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.unanswered {
		switch {
		case res.GetError() != nil && s.id == res.GetId():
			c.o.log.Warn("courier: reply refused", "subject", s.m.Subject, "err", batchItemError(res.GetError()))
		case res.GetError() != nil || s.id > res.GetId():
			r.unanswered[n] = s
			n++
		}
	}
	clear(r.unanswered[n:])
	r.unanswered = r.unanswered[:n]
	if n < maxUnanswered {
		close(r.room)
		r.room = make(chan struct{})
	}
}

// flush waits, at most d, for the server to answer the replies kept,
// before the client closes.
func (r *replyStream) flush(d time.Duration) {
	r.mu.Lock()
	cur := r.cur
	pending := len(r.unanswered) > 0
	r.mu.Unlock()
	if cur == nil || !pending {
		return
	}
	cur.st.CloseSend() //nolint:errcheck // the server answers what is due and ends the stream
	select {
	case <-cur.ended:
	case <-time.After(d):
	}
}
