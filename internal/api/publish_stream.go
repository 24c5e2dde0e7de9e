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
// (given their offsets) but not yet answered; the store side stops
// taking batches beyond it.
const streamDepth = 16

// decodeDepth bounds the batches of one PublishStream that are decoded
// but not yet stored; the receive side stops reading beyond it.
const decodeDepth = 2

// decoded is one decoded batch, or why the receive side ended.
type decoded struct {
	req *courierv1.PublishStreamRequest
	err error
}

// streamBatch is one stored batch on its way to durability, or why the
// receive side ended.
type streamBatch struct {
	pubs []broker.Publishing
	err  error
}

// PublishStream is PublishBatch pipelined in three stages, each its own
// goroutine, so that reading batch N+1, storing batch N and answering
// batch N-1 overlap: a receive goroutine reads batches as they arrive
// (kept raw by the binary codec, publish_raw.go; decoded by Connect for
// JSON); a store goroutine decodes each batch and gives its messages
// their offsets, in the order received; and the handler waits for each
// batch's durability in order and answers it. The client may have several
// batches in flight.
func (h *messaging) PublishStream(ctx context.Context, st courierv1connect.MessagingServicePublishStreamServerStream) error {
	reqs := make(chan decoded, decodeDepth)
	batches := make(chan streamBatch, streamDepth)
	stop := make(chan struct{})
	defer close(stop)
	ans := answers{free: make(chan []broker.Publishing, streamDepth+1)}
	go h.receiveStream(st, reqs, stop)
	go h.storeStream(reqs, batches, stop, ans.free)
	for {
		select {
		case b, ok := <-batches:
			if !ok {
				return nil
			}
			if done, err := h.answer(ctx, st, b, &ans); done {
				return err
			}
		case <-h.s.quit:
			return h.drain(ctx, st, batches, &ans)
		}
	}
}

// answer waits for b's messages and sends their results; done says the
// stream ends (with err).
func (h *messaging) answer(ctx context.Context, st courierv1connect.MessagingServicePublishStreamServerStream, b streamBatch, ans *answers) (done bool, err error) {
	if errors.Is(b.err, io.EOF) {
		return true, nil
	}
	if b.err != nil {
		return true, h.s.apiError(b.err)
	}
	results := ans.reset(len(b.pubs))
	for i := range b.pubs {
		results[i] = h.result(ctx, &b.pubs[i], &ans.slots[i])
	}
	if err := st.Send(&courierv1.PublishStreamResponse{Results: results}); err != nil {
		return true, err
	}
	ans.recycle(b.pubs)
	return false, nil
}

// answers is the handler's scratch for the results of one batch, reused
// from batch to batch: Send encodes them before it returns. An answered
// batch's outcomes go back to the store side for a later batch (free).
type answers struct {
	results []*courierv1.PublishResult
	slots   []resultSlot
	free    chan []broker.Publishing
}

// recycle hands an answered batch's outcomes back, unless enough wait.
func (a *answers) recycle(pubs []broker.Publishing) {
	clear(pubs)
	select {
	case a.free <- pubs[:0]:
	default:
	}
}

// resultSlot holds one message's result and its ack.
type resultSlot struct {
	res courierv1.PublishResult
	ack courierv1.PublishResponse
}

// reset makes room for n results.
func (a *answers) reset(n int) []*courierv1.PublishResult {
	if cap(a.slots) < n {
		a.slots = make([]resultSlot, n)
		a.results = make([]*courierv1.PublishResult, n)
	}
	a.slots, a.results = a.slots[:n], a.results[:n]
	return a.results
}

// drain answers, at shutdown, the batches already stored, then ends the
// stream with shutting_down: the client sends what follows elsewhere or
// later.
func (h *messaging) drain(ctx context.Context, st courierv1connect.MessagingServicePublishStreamServerStream, batches <-chan streamBatch, ans *answers) error {
	for {
		select {
		case b, ok := <-batches:
			if !ok {
				return nil
			}
			if done, err := h.answer(ctx, st, b, ans); done {
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
func (h *messaging) receiveStream(st courierv1connect.MessagingServicePublishStreamServerStream, reqs chan<- decoded, stop <-chan struct{}) {
	defer close(reqs)
	for {
		req, err := st.Receive()
		select {
		case reqs <- decoded{req: req, err: err}:
		case <-stop:
			releaseRaw(req)
			return
		}
		if err != nil {
			return
		}
	}
}

// storeStream gives the messages of each decoded batch their offsets, in
// order, and hands the batch on to be answered. It ends once the receive
// side has, or with the handler (stop); then it gives back the raw
// requests it will not store.
func (h *messaging) storeStream(reqs <-chan decoded, batches chan<- streamBatch, stop <-chan struct{}, free <-chan []broker.Publishing) {
	defer close(batches)
	defer func() {
		for r := range reqs { // the receive side closes it once it sees stop
			releaseRaw(r.req)
		}
	}()
	sc := storeScratch{free: free}
	for r := range reqs {
		select {
		case <-stop:
			releaseRaw(r.req)
			return
		default:
		}
		b := streamBatch{err: r.err}
		if r.err == nil {
			b.pubs, b.err = h.storeBatch(r.req, &sc)
		}
		select {
		case batches <- b:
		case <-stop:
			return
		}
	}
}

// storeBatch stores the publishes of one request, decoded (JSON) or raw
// (binaryCodec).
func (h *messaging) storeBatch(req *courierv1.PublishStreamRequest, sc *storeScratch) ([]broker.Publishing, error) {
	raw := req.ProtoReflect().GetUnknown()
	if len(raw) == 0 {
		return h.publishAll(req.GetPublishes(), sc), nil
	}
	defer raws.release(raw) // stored (or failed): its bytes are needed no more
	if len(req.GetPublishes()) > 0 {
		return nil, invalidArg("a PublishStreamRequest with both decoded and raw publishes")
	}
	n, err := countPublishes(raw)
	if err != nil {
		return nil, err
	}
	sc.begin(n)
	for i := 0; len(raw) > 0; {
		var pr *courierv1.PublishRequest
		if pr, raw, err = sc.dec.next(raw); err != nil {
			return nil, err
		}
		if pr != nil {
			sc.convert(i, pr)
			i++
		}
	}
	return sc.publish(h.s.b), nil
}

// publishAll gives each message its offset, in order; messages for one
// partition share record batches (broker.PublishBatchAsync). The results
// follow prs.
func (h *messaging) publishAll(prs []*courierv1.PublishRequest, sc *storeScratch) []broker.Publishing {
	sc.begin(len(prs))
	for i, pr := range prs {
		sc.convert(i, pr)
	}
	return sc.publish(h.s.b)
}

// storeScratch is what the store side reuses from one batch to the next:
// the broker keeps no reference to the messages it is given.
type storeScratch struct {
	msgs   []broker.Message
	pubs   []broker.Publish
	at     []int
	failed []broker.Publishing // set once a message of the batch fails to convert
	dec    rawDecoder
	free   <-chan []broker.Publishing // answered batches' outcomes, for reuse (nil: none)
}

// outcomes returns a slice for a batch's outcomes: an answered batch's
// when one is free.
func (sc *storeScratch) outcomes() []broker.Publishing {
	select {
	case out := <-sc.free:
		return out
	default:
		return nil
	}
}

// begin starts a batch of n publishes.
func (sc *storeScratch) begin(n int) {
	if cap(sc.msgs) < n {
		sc.msgs = make([]broker.Message, n)
	}
	sc.msgs = sc.msgs[:n]
	sc.pubs, sc.at, sc.failed = sc.pubs[:0], sc.at[:0], nil
}

// convert converts publish i of the batch.
func (sc *storeScratch) convert(i int, pr *courierv1.PublishRequest) {
	exp, err := toPublishInto(&sc.msgs[i], pr)
	if err != nil {
		if sc.failed == nil {
			sc.failed = sc.outcomes()
			if cap(sc.failed) < len(sc.msgs) {
				sc.failed = make([]broker.Publishing, len(sc.msgs))
			}
			sc.failed = sc.failed[:len(sc.msgs)]
		}
		sc.failed[i].Err = err
		return
	}
	sc.pubs = append(sc.pubs, broker.Publish{Msg: &sc.msgs[i], Exp: exp})
	sc.at = append(sc.at, i)
}

// publish stores the converted publishes and returns every result, in
// the batch's order.
func (sc *storeScratch) publish(b *broker.Broker) []broker.Publishing {
	if sc.failed == nil {
		return b.PublishBatchAsyncTo(sc.outcomes(), sc.pubs)
	}
	for j, r := range b.PublishBatchAsync(sc.pubs) {
		sc.failed[sc.at[j]] = r
	}
	return sc.failed
}

// result waits for one message's durability and writes its outcome in
// slot (a new one when nil).
func (h *messaging) result(ctx context.Context, p *broker.Publishing, slot *resultSlot) *courierv1.PublishResult {
	if slot == nil {
		slot = &resultSlot{}
	}
	slot.res.Reset()
	ack, err := p.Wait(ctx)
	if err != nil {
		slot.res.Error = h.s.batchError(err)
		return &slot.res
	}
	slot.ack.Reset()
	slot.ack.Stream, slot.ack.Partition, slot.ack.Offset, slot.ack.Duplicate = ack.Stream, int32(ack.Partition), ack.Offset, ack.Duplicate
	slot.res.Ack = &slot.ack
	return &slot.res
}
