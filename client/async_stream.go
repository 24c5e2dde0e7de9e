package client

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"connectrpc.com/connect/v2"
	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
)

// A lane publishes over one PublishStream, pipelined: it sends a batch
// without waiting for the answers to the batches before it, up to
// laneDepth batches in flight, and a receiver resolves each batch's
// futures as its answer comes (the server answers in order). Order is
// kept because one stream carries the lane's batches in order.
//
// When the stream breaks because the server is unavailable, the batches
// not yet answered are sent again first on a new stream (up to the
// client's retries, with backoff), so order still holds; other failures
// fail them. A server without PublishStream gets PublishBatch calls, one
// batch at a time.

// laneDepth bounds the batches a lane has in flight.
const laneDepth = 16

// flight is one batch sent (or to be sent again) on a lane's stream.
type flight struct {
	futs    []*PubFuture
	raw     []byte                          // the encoded publishes (encode.go)
	req     *courierv1.PublishStreamRequest // raw, as a request
	attempt int
	sent    time.Time // when it went on its current stream
}

// pubStream is one PublishStream of a lane.
type pubStream struct {
	st     courierv1connect.MessagingServicePublishStreamClientStream
	cancel context.CancelFunc
	// Guarded by the lane's smu.
	inflight []*flight
	broken   bool
	timedOut bool // the watchdog ended it: a batch went unanswered too long
}

// laneStream is a lane's stream state.
type laneStream struct {
	smu   sync.Mutex
	cur   *pubStream
	retry []*flight // to send again before anything new, in order
	unary bool      // the server lacks PublishStream: use PublishBatch
	slots chan struct{}
	kick  chan struct{} // retries are waiting
}

func newLaneStream() laneStream {
	return laneStream{slots: make(chan struct{}, laneDepth), kick: make(chan struct{}, 1)}
}

// acquire takes a slot for a new flight, sending the retries that wait
// meanwhile (they hold slots of their own).
func (p *asyncPublisher) acquire(l *lane) {
	for {
		select {
		case l.slots <- struct{}{}:
			return
		case <-l.kick:
			p.resend(l)
		}
	}
}

// resend sends the flights waiting to go again, after a backoff.
func (p *asyncPublisher) resend(l *lane) {
	l.smu.Lock()
	var attempt int
	if len(l.retry) > 0 {
		attempt = l.retry[0].attempt
	}
	l.smu.Unlock()
	sleep(p.c.ctx, backoff(p.c.o.backoff, attempt)) //nolint:errcheck // a closed client fails the flights below
	p.fly(l, nil)
}

// fly sends the lane's retries and then f (if any) on the lane's stream,
// opening a new one if the last broke.
func (p *asyncPublisher) fly(l *lane, f *flight) {
	l.smu.Lock()
	fs := l.retry
	l.retry = nil
	if f != nil {
		fs = append(fs, f)
	}
	if l.unary {
		l.smu.Unlock()
		for _, f := range fs {
			p.send(f)
			<-l.slots
		}
		return
	}
	s := l.cur
	if s == nil || s.broken {
		s = p.open(l)
	}
	now := time.Now()
	for _, f := range fs {
		f.sent = now
	}
	s.inflight = append(s.inflight, fs...)
	l.smu.Unlock()
	for _, f := range fs {
		if err := s.st.Send(f.req); err != nil {
			// io.EOF: the server ended the stream, and the receiver gets
			// its reason (say, unimplemented) from Receive; canceling
			// would hide it behind "canceled".
			if !errors.Is(err, io.EOF) {
				s.cancel() // the receiver sees why and settles the flights
			}
			return
		}
	}
}

// open starts a new stream and its receiver; l.smu is held.
func (p *asyncPublisher) open(l *lane) *pubStream {
	ctx, cancel := context.WithCancel(p.c.ctx)
	s := &pubStream{cancel: cancel}
	st, err := p.c.msg.PublishStream(ctx)
	if err != nil {
		s.broken = true
	}
	s.st = st
	l.cur = s
	// Not goBackground: Close flushes, which may open a stream, after
	// the client counts as closed; close waits for the receivers.
	p.recv.Go(func() { p.receive(l, s, err) })
	if err == nil && p.c.o.timeout > 0 {
		p.recv.Go(func() { p.watch(ctx, l, s) })
	}
	return s
}

// watch ends a stream whose oldest batch has waited longer than the
// client's timeout for its answer: the server may be stuck, and the
// batch's futures fail with ErrTimeout (the batch may or may not have
// been stored, so it is not sent again).
func (p *asyncPublisher) watch(ctx context.Context, l *lane, s *pubStream) {
	limit := p.c.o.timeout
	tick := time.NewTicker(max(limit/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			l.smu.Lock()
			late := len(s.inflight) > 0 && now.Sub(s.inflight[0].sent) > limit
			if late {
				s.timedOut = true
			}
			l.smu.Unlock()
			if late {
				s.cancel()
				return
			}
		}
	}
}

// receive resolves the stream's flights in order as the answers come,
// until the stream ends.
func (p *asyncPublisher) receive(l *lane, s *pubStream, err error) {
	defer s.cancel()
	var dec resultDecoder
	for err == nil {
		var res *courierv1.PublishStreamResponse
		if res, err = s.st.Receive(); err != nil {
			break
		}
		var results []*courierv1.PublishResult
		if results, err = dec.results(res); err != nil {
			break
		}
		l.smu.Lock()
		if len(s.inflight) == 0 {
			l.smu.Unlock()
			err = errorf(&Error{Code: "internal", Reason: "internal"}, "the server answered a batch that was not sent")
			break
		}
		f := s.inflight[0]
		s.inflight = s.inflight[1:]
		l.smu.Unlock()
		// The slot is free before the futures resolve: a caller that saw
		// every future resolve sees every slot free.
		l.recycle(f.raw)
		<-l.slots
		if len(results) != len(f.futs) {
			p.resolveAll(f.futs, nil, errorf(&Error{Code: "internal", Reason: "internal"},
				"the server answered %d results for a batch of %d", len(results), len(f.futs)))
		} else {
			p.resolveAll(f.futs, results, nil)
		}
	}
	p.broke(l, s, err)
}

// broke settles the flights of a stream that ended with err: sent again
// later when the server was unavailable (or lacks PublishStream), failed
// otherwise.
func (p *asyncPublisher) broke(l *lane, s *pubStream, err error) {
	l.smu.Lock()
	s.broken = true
	fs := s.inflight
	s.inflight = nil
	if len(fs) == 0 {
		l.smu.Unlock()
		return
	}
	if connect.CodeOf(err) == connect.CodeUnimplemented {
		l.unary = true
	}
	if s.timedOut {
		err = errorf(ErrTimeout, "no answer to a publish batch within %v", p.c.o.timeout)
	}
	var again, failed []*flight
	for _, f := range fs {
		retry := l.unary || isUnavailable(err) && f.attempt < p.c.o.retries && p.c.ctx.Err() == nil
		if retry && !s.timedOut {
			f.attempt++
			again = append(again, f)
		} else {
			failed = append(failed, f)
		}
	}
	l.retry = append(again, l.retry...)
	l.smu.Unlock()
	if errors.Is(err, io.EOF) {
		err = errorf(&Error{Code: "internal", Reason: "internal"}, "the server ended the publish stream with batches unanswered")
	}
	for _, f := range failed {
		<-l.slots
		p.resolveAll(f.futs, nil, p.c.wrap(p.c.ctx, err))
	}
	if len(again) > 0 {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// closeStream ends the lane's stream once its flights are answered.
func (l *lane) closeStream() {
	l.smu.Lock()
	s := l.cur
	l.smu.Unlock()
	if s != nil && !s.broken {
		s.st.CloseSend() //nolint:errcheck // the receiver sees the end
	}
}
