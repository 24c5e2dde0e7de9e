package api

import (
	"context"
	"errors"
	"io"
	"sync"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
)

// RequestStream: many requests on one stream. A receive goroutine reads
// them; each is served by its own goroutine (at most
// maxStreamRequests at once, then reading waits), which sends the answer
// as soon as the reply comes, so answers leave in any order, each naming
// its request's id. A client that half-closes gets the answers still
// due; when the stream ends otherwise, the requests in progress are
// abandoned.

// maxStreamRequests bounds the requests in progress on one stream.
const maxStreamRequests = 1024

// streamRequest is one request read from the stream, or why reading
// ended.
type streamRequest struct {
	req *courierv1.RequestStreamRequest
	err error
}

func (h *messaging) RequestStream(ctx context.Context, st courierv1connect.MessagingServiceRequestStreamServerStream) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reqs := make(chan streamRequest, 16)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			req, err := st.Receive()
			select {
			case reqs <- streamRequest{req, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	a := &answerer{st: st, cancel: cancel}
	slots := make(chan struct{}, maxStreamRequests)
	for {
		var r streamRequest
		select {
		case r = <-reqs:
		case <-ctx.Done():
			return nil
		case <-h.s.quit:
			return h.s.apiError(errShutdown)
		}
		switch {
		case errors.Is(r.err, io.EOF):
			wg.Wait() // half-closed: answer what is due
			return nil
		case r.err != nil:
			return r.err
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		wg.Go(func() {
			defer func() { <-slots }()
			a.send(h.serveRequest(ctx, r.req))
		})
	}
}

// answerer sends a stream's answers, one at a time.
type answerer struct {
	mu     sync.Mutex
	st     courierv1connect.MessagingServiceRequestStreamServerStream
	cancel context.CancelFunc
}

func (a *answerer) send(res *courierv1.RequestStreamResponse) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.st.Send(res); err != nil {
		a.cancel() // the stream broke: abandon the rest
	}
}

// serveRequest runs one request of the stream.
func (h *messaging) serveRequest(ctx context.Context, req *courierv1.RequestStreamRequest) *courierv1.RequestStreamResponse {
	res := &courierv1.RequestStreamResponse{Id: req.GetId()}
	reply, err := h.request(ctx, req.GetMessage(), req.GetTimeout())
	if err != nil {
		res.Error = h.s.batchError(err)
		return res
	}
	res.Reply = fromBroker(reply)
	return res
}
