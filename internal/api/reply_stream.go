package api

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/wire"
)

// ReplyStream: a responder's replies. A receive goroutine reads each
// reply and publishes it at once (a reply to an inbox reaches its waiting
// request within the publish; one to a subject a stream captures is
// stored, and the next reply waits for it). A replyAcker answers from a
// goroutine of its own, so reading never waits on the client: a refused
// reply at once, the published ones together, replyAckDelay after the
// first of them or once replyAckEvery are due. The client keeps a reply
// until it is answered, to send it again if the stream breaks first.
//
// Over wire, a reply to a subject no stream captures is published on
// the connection's reader (inline), which saves waking the receive
// goroutine; that publish never waits.
func (h *messaging) ReplyStream(ctx context.Context, st courierv1connect.MessagingServiceReplyStreamServerStream) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	k := newReplyAcker(st.Send, cancel)
	stop, _ := wire.Inline(ctx, func(decode func(any) error) bool { return h.replyInline(ctx, decode, k) })
	read := make(chan error, 1)
	go func() { read <- h.readReplies(ctx, st, k) }()
	var err error
	select {
	case err = <-read:
	case <-ctx.Done():
	case <-h.s.quit:
		err = h.s.apiError(errShutdown)
	}
	stop() // no reply is published after this
	switch {
	case errors.Is(err, io.EOF): // half-closed: answer what is due
		k.close()
		return nil
	case ctx.Err() != nil:
		k.abandon()
		return nil
	}
	k.abandon()
	return err
}

// readReplies publishes the stream's replies until it ends.
func (h *messaging) readReplies(ctx context.Context, st courierv1connect.MessagingServiceReplyStreamServerStream, k *replyAcker) error {
	for {
		req, err := st.Receive()
		if err != nil {
			return err
		}
		h.publishReply(ctx, req, k)
	}
}

// replyInline publishes a reply on the connection's reader, unless that
// could wait (wire.InlineFunc).
func (h *messaging) replyInline(ctx context.Context, decode func(any) error, k *replyAcker) bool {
	req := new(courierv1.ReplyStreamRequest)
	if decode(req) != nil {
		return false // Receive reports it
	}
	if m := req.GetMessage(); m == nil || h.s.b.Captures(m.GetSubject()) {
		return false
	}
	h.publishReply(ctx, req, k)
	return true
}

// publishReply publishes one reply and tells k the outcome.
func (h *messaging) publishReply(ctx context.Context, req *courierv1.ReplyStreamRequest, k *replyAcker) {
	var err error
	if req.GetMessage() == nil {
		err = invalidArg("reply: message is required")
	} else {
		_, err = h.s.b.Publish(ctx, toBroker(req.GetMessage()), broker.Expect{})
	}
	if err != nil {
		k.refuse(&courierv1.ReplyStreamResponse{Id: req.GetId(), Error: h.s.batchError(err)})
	} else {
		k.published(req.GetId())
	}
}

// replyAckDelay is the longest a published reply waits for its answer;
// replyAckEvery answers sooner when that many are due.
const (
	replyAckDelay = 5 * time.Millisecond
	replyAckEvery = 64
)

// replyAcker sends a ReplyStream's answers.
type replyAcker struct {
	send   func(*courierv1.ReplyStreamResponse) error
	cancel context.CancelFunc

	mu       sync.Mutex
	refusals []*courierv1.ReplyStreamResponse
	last     uint64 // the last id published
	due      int    // replies published and not answered
	closing  bool   // answer what is due, then stop
	wake     chan struct{}
	stop     chan struct{} // closed by abandon
	done     chan struct{}
}

func newReplyAcker(send func(*courierv1.ReplyStreamResponse) error, cancel context.CancelFunc) *replyAcker {
	k := &replyAcker{send: send, cancel: cancel, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go k.run()
	return k
}

// published records that reply id was published.
func (k *replyAcker) published(id uint64) {
	k.mu.Lock()
	k.last = id
	k.due++
	n := k.due
	k.mu.Unlock()
	if n == 1 || n >= replyAckEvery { // start the delay, or answer now
		k.signal()
	}
}

// refuse queues a refusal, which goes out at once.
func (k *replyAcker) refuse(res *courierv1.ReplyStreamResponse) {
	k.mu.Lock()
	k.refusals = append(k.refusals, res)
	k.mu.Unlock()
	k.signal()
}

func (k *replyAcker) signal() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// close answers what is due and stops the acker.
func (k *replyAcker) close() {
	k.mu.Lock()
	k.closing = true
	k.mu.Unlock()
	k.signal()
	<-k.done
}

// abandon stops the acker without answering: the stream is over.
func (k *replyAcker) abandon() {
	close(k.stop)
	<-k.done
}

func (k *replyAcker) run() {
	defer close(k.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	for {
		expired := false
		select {
		case <-k.wake:
		case <-timer.C:
			armed, expired = false, true
		case <-k.stop:
			return
		}
		k.mu.Lock()
		refusals, closing := k.refusals, k.closing
		k.refusals = nil
		var ack uint64
		if k.due > 0 && (expired || closing || k.due >= replyAckEvery) {
			ack, k.due = k.last, 0
		}
		wait := k.due > 0 && !armed
		k.mu.Unlock()
		for _, res := range refusals {
			k.answer(res)
		}
		if ack > 0 {
			k.answer(&courierv1.ReplyStreamResponse{Id: ack})
		}
		if closing {
			return
		}
		if wait {
			timer.Reset(replyAckDelay)
			armed = true
		}
	}
}

// answer sends res; a failed send ends the stream.
func (k *replyAcker) answer(res *courierv1.ReplyStreamResponse) {
	if err := k.send(res); err != nil {
		k.cancel()
	}
}
