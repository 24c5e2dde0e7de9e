package api

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/wire"
)

// RequestStream: many requests on one stream. Each request is published
// at once (broker.RequestFunc), at most maxStreamRequests in progress;
// no goroutine waits for a reply. A reply, or the request's failure, is
// queued for the stream's sender (answerer), so answers leave in any
// order, each naming its request's id. A client that half-closes gets
// the answers still due; when the stream ends otherwise, the requests in
// progress are abandoned.
//
// Over wire, a request is published on the connection's reader (inline)
// when that cannot wait: its subject is one no stream captures and a
// slot is free. The others (a stored request waits for durability) go
// to a receive goroutine, which waits for a slot when none is free.

// maxStreamRequests bounds the requests in progress on one stream.
const maxStreamRequests = 1024

func (h *messaging) RequestStream(ctx context.Context, st courierv1connect.MessagingServiceRequestStreamServerStream) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := newAnswerer(st.Send, wire.TrySender(ctx), cancel)
	defer a.close()
	r := &streamRequests{h: h, ctx: ctx, a: a, slots: make(chan struct{}, maxStreamRequests)}
	stop, _ := wire.Inline(ctx, r.inline)
	defer stop() // before a.close: no answer comes after it
	read := make(chan error, 1)
	go func() { read <- r.read(st) }()
	select {
	case err := <-read:
		if errors.Is(err, io.EOF) {
			r.inProgress.Wait() // half-closed: answer what is due
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		return err
	case <-ctx.Done():
		return nil
	case <-h.s.quit:
		return h.s.apiError(errShutdown)
	}
}

// streamRequests are a RequestStream's requests in progress.
type streamRequests struct {
	h          *messaging
	ctx        context.Context
	a          *answerer[*courierv1.RequestStreamResponse]
	slots      chan struct{} // one per request in progress
	inProgress sync.WaitGroup
}

// read publishes the stream's requests until it ends.
func (r *streamRequests) read(st courierv1connect.MessagingServiceRequestStreamServerStream) error {
	for {
		req, err := st.Receive()
		if err != nil {
			return err
		}
		select {
		case r.slots <- struct{}{}:
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
		r.start(req)
	}
}

// inline publishes a request on the connection's reader, unless that
// could wait (wire.InlineFunc).
func (r *streamRequests) inline(decode func(any) error) bool {
	req := new(courierv1.RequestStreamRequest)
	if decode(req) != nil {
		return false // Receive reports it
	}
	if m := req.GetMessage(); m != nil && r.h.s.b.Captures(m.GetSubject()) {
		return false
	}
	select {
	case r.slots <- struct{}{}:
	default:
		return false
	}
	r.start(req)
	return true
}

// start publishes req, which holds a slot.
func (r *streamRequests) start(req *courierv1.RequestStreamRequest) {
	r.inProgress.Add(1)
	id := req.GetId()
	r.h.requestFunc(r.ctx, req.GetMessage(), req.GetTimeout(), func(reply *broker.Message, err error) {
		if err != nil {
			r.a.push(&courierv1.RequestStreamResponse{Id: id, Error: r.h.s.batchError(err)})
		} else {
			r.a.push(rawAnswer(id, reply))
		}
		<-r.slots
		r.inProgress.Done()
	})
}

// requestFunc is request (request.go) without the wait: done gets the
// first reply or the failure, on the goroutine that saw it.
func (h *messaging) requestFunc(ctx context.Context, m *courierv1.Message, timeout *durationpb.Duration, done func(*broker.Message, error)) {
	if m == nil {
		done(nil, invalidArg("message is required"))
		return
	}
	// The stream's ctx with a timeout per request: the broker keeps the
	// timeouts together rather than a context per request.
	h.s.b.RequestFuncTimeout(ctx, requestTimeout(timeout), toBroker(m), done)
}

// answerer sends a stream's answers so that the goroutine that
// delivers a reply (a replier's publish) never waits on this stream's
// client: over wire it sends at once when that needs no wait
// (wire.TrySender), otherwise a goroutine of its own sends.
type answerer[T any] struct {
	send   func(T) error // the stream's Send
	try    wire.TrySend  // nil: always through the goroutine
	cancel context.CancelFunc

	mu     sync.Mutex
	queue  []T
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

func newAnswerer[T any](send func(T) error, try wire.TrySend, cancel context.CancelFunc) *answerer[T] {
	a := &answerer[T]{send: send, try: try, cancel: cancel, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go a.run()
	return a
}

// push sends an answer, or queues it for the goroutine; after close it
// is dropped. With nothing queued it is tried at once, under mu, so
// that nothing goes after close.
func (a *answerer[T]) push(res T) {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	if a.try != nil && len(a.queue) == 0 {
		sent, err := a.try(res)
		if err != nil {
			a.cancel() // the stream broke
		}
		if sent {
			a.mu.Unlock()
			return
		}
	}
	a.queue = append(a.queue, res)
	a.mu.Unlock()
	a.signal()
}

func (a *answerer[T]) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// close sends what is queued, then stops the sender.
func (a *answerer[T]) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.signal()
	<-a.done
}

func (a *answerer[T]) run() {
	defer close(a.done)
	broken := false
	for {
		<-a.wake
		a.mu.Lock()
		q, closed := a.queue, a.closed
		a.queue = nil
		a.mu.Unlock()
		for _, res := range q {
			if !broken && a.send(res) != nil {
				broken = true
				a.cancel() // the stream broke: abandon the rest
			}
		}
		if closed {
			return
		}
	}
}
