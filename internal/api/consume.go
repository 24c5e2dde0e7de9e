package api

import (
	"context"
	"errors"
	"io"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
)

// consumer is one Consume stream: a group member, the deliveries it holds
// by delivery id, and the stream. Only the handler goroutine sends on the
// stream and touches the map; a receive goroutine hands it the settles.
type consumer struct {
	ledger
	s     *Server
	st    courierv1connect.MessagingServiceConsumeServerStream
	m     *broker.Member
	taken []*broker.Delivery // reused by deliver
	ids   []uint64           // reused by deliver
	enc   rawEncoder
}

// received is one message from the client, or why the receive side ended.
type received struct {
	req *courierv1.ConsumeRequest
	err error
}

// Consume joins a group with the stream's first message, then sends
// deliveries (the member's max in flight bounds the unsettled ones) and
// answers each settle. When the stream ends for any reason the member
// leaves, so its unsettled messages go back to the group at once.
func (h *messaging) Consume(ctx context.Context, st courierv1connect.MessagingServiceConsumeServerStream) error {
	first, err := st.Receive()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return h.s.apiError(invalidArg("consume: the stream ended before a join"))
		}
		return err
	}
	join := first.GetJoin()
	if join == nil {
		return h.s.apiError(invalidArg("consume: the first message must be a join"))
	}
	m, err := h.s.b.Join(join.GetStream(), join.GetGroup(), int(join.GetMaxInFlight()))
	if err != nil {
		return h.s.apiError(err)
	}
	defer m.Leave()
	c := &consumer{s: h.s, st: st, m: m, ledger: newLedger()}
	if err := c.sendJoined(join); err != nil {
		return err
	}
	reqs := make(chan received, 16)
	stop := make(chan struct{})
	defer close(stop)
	go receiveLoop(st, reqs, stop)
	return c.run(ctx, reqs)
}

// receiveLoop reads the client's messages until the stream ends. It ends
// with the handler (stop), which closes the request body.
func receiveLoop(st courierv1connect.MessagingServiceConsumeServerStream, reqs chan<- received, stop <-chan struct{}) {
	for {
		req, err := st.Receive()
		select {
		case reqs <- received{req, err}:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// sendJoined answers the join with the member's max in flight: the one
// asked for, bounded by the group's (0: the group's).
func (c *consumer) sendJoined(j *courierv1.Join) error {
	mif := int(j.GetMaxInFlight())
	if gi, err := c.s.b.GroupInfo(j.GetStream(), j.GetGroup()); err == nil {
		if mif <= 0 || mif > gi.Config.MaxInFlight {
			mif = gi.Config.MaxInFlight
		}
	}
	return c.st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Joined{
		Joined: &courierv1.Joined{MaxInFlight: int32(mif)}}})
}

// run is the stream's loop: deliveries out, settles in. Flushes are held
// while more is ready at once (see flush.go).
func (c *consumer) run(ctx context.Context, reqs <-chan received) error {
	fc := flushControlOf(ctx)
	fc.hold()
	defer fc.release()
	for {
		var ev event
		select {
		case <-c.m.Ready():
			ev.ready = true
		case r := <-reqs:
			ev.r = &r
		case <-ctx.Done():
			return nil
		case <-c.s.quit:
			return c.s.apiError(errShutdown)
		default:
			fc.flush() // nothing more at once: send what was held
			if ev = c.wait(ctx, reqs); ev.end {
				return ev.err
			}
		}
		if done, err := c.on(ev); done {
			return err
		}
	}
}

// event is what the loop does next: send the deliveries ready, handle a
// client message, or end the stream (with its error).
type event struct {
	ready bool
	r     *received
	end   bool
	err   error
}

// wait blocks for the next event.
func (c *consumer) wait(ctx context.Context, reqs <-chan received) event {
	select {
	case <-ctx.Done():
		return event{end: true}
	case <-c.s.quit:
		// An error, not a clean end: the consumer should join again
		// (elsewhere, or once the server is back).
		return event{end: true, err: c.s.apiError(errShutdown)}
	case <-c.m.Done():
		return event{end: true, err: c.s.apiError(c.m.Err())}
	case <-c.m.Ready():
		return event{ready: true}
	case r := <-reqs:
		return event{r: &r}
	}
}

// on sends the ready deliveries or handles a client message; done says
// the stream ends (with err): it failed, or the client closed its side.
func (c *consumer) on(ev event) (done bool, err error) {
	if ev.ready {
		err = c.deliver()
		return err != nil, err
	}
	switch r := ev.r; {
	case errors.Is(r.err, io.EOF):
		return true, nil
	case r.err != nil:
		return true, r.err
	}
	if err = c.handle(ev.r.req); errors.Is(err, errLeft) {
		return true, nil
	}
	return err != nil, err
}
