package api

import (
	"context"
	"errors"
	"io"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
)

// streamDepth bounds the batches of one PublishStream that are stored
// (given their offsets) but not yet answered; the receive side stops
// reading beyond it.
const streamDepth = 16

// streamBatch is one received batch on its way to durability, or why the
// receive side ended.
type streamBatch struct {
	pubs []pendingPub
	err  error
}

// PublishStream is PublishBatch pipelined: a receive goroutine gives each
// batch's messages their offsets as the batches arrive (so they are stored
// in the order sent), while the handler waits for each batch's durability
// in order and answers it. The client may have several batches in flight.
func (h *messaging) PublishStream(ctx context.Context, st courierv1connect.MessagingServicePublishStreamServerStream) error {
	batches := make(chan streamBatch, streamDepth)
	stop := make(chan struct{})
	defer close(stop)
	go h.receiveStream(st, batches, stop)
	for {
		select {
		case b, ok := <-batches:
			if !ok {
				return nil
			}
			if done, err := h.answer(ctx, st, b); done {
				return err
			}
		case <-h.s.quit:
			return h.drain(ctx, st, batches)
		}
	}
}

// answer waits for b's messages and sends their results; done says the
// stream ends (with err).
func (h *messaging) answer(ctx context.Context, st courierv1connect.MessagingServicePublishStreamServerStream, b streamBatch) (done bool, err error) {
	if errors.Is(b.err, io.EOF) {
		return true, nil
	}
	if b.err != nil {
		return true, h.s.apiError(b.err)
	}
	results := make([]*courierv1.PublishResult, len(b.pubs))
	for i, p := range b.pubs {
		results[i] = h.result(ctx, p)
	}
	if err := st.Send(&courierv1.PublishStreamResponse{Results: results}); err != nil {
		return true, err
	}
	return false, nil
}

// drain answers, at shutdown, the batches already received (and stored),
// then ends the stream with shutting_down: the client sends what follows
// elsewhere or later.
func (h *messaging) drain(ctx context.Context, st courierv1connect.MessagingServicePublishStreamServerStream, batches <-chan streamBatch) error {
	for {
		select {
		case b, ok := <-batches:
			if !ok {
				return nil
			}
			if done, err := h.answer(ctx, st, b); done {
				return err
			}
		default:
			return h.s.apiError(errShutdown)
		}
	}
}

// receiveStream reads batches until the client closes its side or the
// stream fails, and hands each on (with the end last). It ends with the
// handler (stop), which closes the request body.
func (h *messaging) receiveStream(st courierv1connect.MessagingServicePublishStreamServerStream, batches chan<- streamBatch, stop <-chan struct{}) {
	defer close(batches)
	for {
		var b streamBatch
		req, err := st.Receive()
		if err != nil {
			b.err = err
		} else {
			b.pubs = h.publishAll(req.GetPublishes())
		}
		select {
		case batches <- b:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// publishAll gives each message its offset, in order; messages for one
// partition share record batches (broker.PublishBatchAsync).
func (h *messaging) publishAll(prs []*courierv1.PublishRequest) []pendingPub {
	out := make([]pendingPub, len(prs))
	pubs := make([]broker.Publish, 0, len(prs))
	at := make([]int, 0, len(prs))
	for i, pr := range prs {
		m, exp, err := toPublish(pr)
		if err != nil {
			out[i] = pendingPub{err: err}
			continue
		}
		pubs = append(pubs, broker.Publish{Msg: m, Exp: exp})
		at = append(at, i)
	}
	for j, r := range h.s.b.PublishBatchAsync(pubs) {
		out[at[j]] = pendingPub{wait: r.Wait, err: r.Err}
	}
	return out
}

// result waits for one message's durability and says its outcome.
func (h *messaging) result(ctx context.Context, p pendingPub) *courierv1.PublishResult {
	err := p.err
	if err == nil {
		var ack broker.PubAck
		if ack, err = p.wait(ctx); err == nil {
			return &courierv1.PublishResult{Ack: fromAck(ack)}
		}
	}
	return &courierv1.PublishResult{Error: h.s.batchError(err)}
}
