package api

import (
	"context"

	"connectrpc.com/connect/v2"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/wire"
)

// subscribedHeader marks the response headers of a subscription that is
// set up. A refused one (an invalid pattern) answers with its error and
// without the mark, so that a client waiting for the headers knows at
// once, rather than at its first receive, that it has no subscription.
const subscribedHeader = "Courier-Subscribed"

// Subscribe streams every message matching the pattern, from the start
// position (absent: live only). It ends cleanly when the client goes away
// or the server shuts down, and with slow_consumer when the broker cuts a
// subscription that fell a whole buffer behind. Over wire, live
// messages go out on their publisher's goroutine while the handler
// waits (sendDirect).
func (h *messaging) Subscribe(ctx context.Context, req *courierv1.SubscribeRequest, st courierv1connect.MessagingServiceSubscribeServerStream) error {
	sub, err := h.s.b.Subscribe(req.GetPattern(), toStart(req.GetStart(), broker.StartLatest), h.s.opts.subscriptionBuffer)
	if err != nil {
		return h.s.apiError(err)
	}
	defer sub.Close()
	// Headers go out now, marked, so the client knows the subscription
	// is live before the first message.
	if info, ok := connect.CallInfoForServerContext(ctx); ok {
		info.ResponseHeader().Set(subscribedHeader, "1")
	}
	if err := st.SendHeaders(); err != nil {
		return err
	}
	fc := flushControlOf(ctx)
	fc.hold()
	defer fc.release()
	var enc rawEncoder
	direct := sendDirect(ctx, sub)
	for {
		var m *broker.Message
		select {
		case m = <-sub.Messages():
		case <-ctx.Done():
			return nil
		case <-h.s.quit:
			return nil
		default:
			fc.flush() // nothing more at once: send what was held
			if direct && !sub.Idle() {
				continue // one came meanwhile
			}
			select {
			case <-ctx.Done():
				return nil
			case <-h.s.quit:
				return nil
			case <-sub.Done():
				return h.s.apiError(sub.Err())
			case m = <-sub.Messages():
			}
		}
		if err := st.Send(enc.subscribed(m)); err != nil {
			return err
		}
	}
}

// sendDirect makes the subscription's live messages go out on their
// publisher's goroutine while the handler waits, when the stream can be
// sent on without waiting (wire.TrySender); it reports whether it did.
// A message that cannot go at once is buffered for the handler, as
// without it (broker.Subscription.Direct keeps the order).
func sendDirect(ctx context.Context, sub *broker.Subscription) bool {
	try := wire.TrySender(ctx)
	if try == nil {
		return false
	}
	var enc rawEncoder
	sub.Direct(func(m *broker.Message) bool {
		sent, err := try(enc.subscribed(m))
		return sent && err == nil // a broken stream: the handler's Send says so
	})
	return true
}
