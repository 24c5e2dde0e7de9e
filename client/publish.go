package client

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// PubAck says where a published message was stored. Stream is empty when
// no stream captures the subject (the message went to live subscribers
// only).
type PubAck struct {
	Stream    string
	Partition int
	Offset    int64
	// Duplicate: the message's ID was seen within the stream's
	// de-duplication window, so it was not stored again (Offset is the
	// first copy's).
	Duplicate bool
}

// PubOption modifies one publish.
type PubOption func(*pubOptions)

type pubOptions struct{ r *courierv1.PublishRequest }

// WithDelay delivers the message to groups no earlier than d from now.
func WithDelay(d time.Duration) PubOption {
	return func(o *pubOptions) { o.r.Delay = durationOrNil(d) }
}

// ExpectLastOffset stores the message only if the last offset of the
// partition it goes to is n (-1: the partition is empty); otherwise the
// publish fails with ErrWrongLastOffset and Error.LastOffset.
func ExpectLastOffset(n int64) PubOption {
	return func(o *pubOptions) { o.r.ExpectLastOffset = &n }
}

// ExpectLastSubjectOffset stores the message only if the last message of
// its subject is at offset n (-1: none yet).
func ExpectLastSubjectOffset(n int64) PubOption {
	return func(o *pubOptions) { o.r.ExpectLastSubjectOffset = &n }
}

func publishRequest(m *Message, opts []PubOption) *courierv1.PublishRequest {
	r := &courierv1.PublishRequest{Message: m.toProto()}
	for _, o := range opts {
		o(&pubOptions{r})
	}
	return r
}

// Publish stores m in the stream that captures its subject and returns
// once it is durable.
func (c *Client) Publish(ctx context.Context, m *Message, opts ...PubOption) (PubAck, error) {
	res, err := unary(c, ctx, c.msg.Publish, publishRequest(m, opts))
	if err != nil {
		return PubAck{}, err
	}
	return pubAckFromProto(res), nil
}

func pubAckFromProto(r *courierv1.PublishResponse) PubAck {
	return PubAck{Stream: r.GetStream(), Partition: int(r.GetPartition()),
		Offset: r.GetOffset(), Duplicate: r.GetDuplicate()}
}

// Request publishes m with a private reply subject and returns the first
// reply. It waits until ctx's deadline, or 5 seconds when ctx has none;
// ErrNoResponders when nobody listens on the subject, ErrTimeout when
// nobody answered in time.
func (c *Client) Request(ctx context.Context, m *Message) (*Message, error) {
	if c.isClosed() {
		return nil, errorf(ErrClosed, "client is closed")
	}
	var timeout *durationpb.Duration
	if dl, ok := ctx.Deadline(); ok {
		timeout = durationOrNil(time.Until(dl))
	}
	if timeout == nil && c.o.timeout > 0 { // the client's timeout, as a unary call has
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		defer cancel()
	}
	sr := &courierv1.RequestStreamRequest{Message: m.toProto(), Timeout: timeout}
	if reply, ok, err := c.requests.request(ctx, c, sr); ok || err != nil {
		return reply, err
	}
	req := &courierv1.RequestRequest{Message: sr.Message, Timeout: timeout}
	res, err := unary(c, ctx, c.msg.Request, req)
	if err != nil {
		return nil, err
	}
	return messageFromProto(res.GetReply()), nil
}

// Reply publishes resp to the reply subject of req. It returns once the
// reply is sent, on a stream the client keeps open for replies: as with a
// core publish, nothing acknowledges it to the responder (its requester
// may have gone). The client keeps the reply until the server has
// published it, to send it again if the connection breaks first; a reply
// the server refuses (an invalid reply subject, a message too large) is
// logged. A server without that stream gets a Publish, whose error Reply
// returns.
func (c *Client) Reply(ctx context.Context, req *Message, resp *Message) error {
	if req.ReplyTo == "" {
		return errorf(ErrInvalid, "the request on %q has no reply subject", req.Subject)
	}
	r := *resp
	r.Subject = req.ReplyTo
	return c.reply(ctx, &r)
}
