package client

import (
	"context"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/wire"
)

// Subscription receives every message matching a pattern (broadcast: no
// group, no acks). After the server restarts it resubscribes and resumes
// each stream partition after the last message it delivered; messages of
// subjects no stream captures are live only, so those published while
// the server was away are missed.
type Subscription struct {
	c       *Client
	pattern string
	start   Start

	ctx    context.Context // ends at Close or the client's Close
	cancel context.CancelFunc
	ch     chan *Message // filled by the reader
	done   chan struct{} // closed when the reader ends
	err    error         // why the reader ended; read after done

	last  map[partKey]int64 // last offset delivered per stream partition; reader only
	began time.Time         // when the subscription was first set up
}

// clockMargin is how much earlier than its first setup a live
// subscription resumes, in partitions it had not heard from, against a
// difference between the client's and the server's clocks.
const clockMargin = time.Second

type partKey struct {
	stream    string
	partition int
}

type subStream = courierv1connect.MessagingServiceSubscribeClientStream

// Subscribe starts receiving the messages matching pattern, from start
// (zero: live only). It returns once the server has set the
// subscription up, so a message published after it returns is received;
// a subscription the server refuses (an invalid pattern) fails here, with
// the server's error.
func (c *Client) Subscribe(ctx context.Context, pattern string, start Start) (*Subscription, error) {
	if c.isClosed() {
		return nil, errorf(ErrClosed, "client is closed")
	}
	s := &Subscription{c: c, pattern: pattern, start: start,
		ch: make(chan *Message, 64), done: make(chan struct{}), last: map[partKey]int64{}, began: time.Now()}
	s.ctx, s.cancel = context.WithCancel(c.ctx)
	var stream subStream
	var err error
	for attempt := 0; ; attempt++ {
		if stream, err = s.open(ctx, start.toProto()); err == nil {
			break
		}
		if attempt >= c.o.retries || !isUnavailable(err) || sleep(ctx, backoff(c.o.backoff, attempt)) != nil {
			s.cancel()
			return nil, c.wrap(ctx, err)
		}
	}
	if !c.goBackground(func() { s.read(stream) }) {
		s.cancel()
		stream.Close()
		return nil, errorf(ErrClosed, "client is closed")
	}
	return s, nil
}

// open starts the server stream and waits until the server answered with
// its headers (the subscription is live), the call failed, or ctx ended.
func (s *Subscription) open(ctx context.Context, start *courierv1.Start) (subStream, error) {
	sctx, sig := withHeadersSignal(s.ctx)
	var dec msgDecoder // the stream's, on the connection's reader
	sctx = wire.WithInline(sctx, func(decode func(any) error) bool { return s.inline(&dec, decode) })
	req := &courierv1.SubscribeRequest{Pattern: s.pattern, Start: start}
	stream, err := s.c.msg.Subscribe(sctx, req)
	if err != nil {
		return stream, err
	}
	select {
	case <-sig.ch:
	case <-ctx.Done():
		stream.Close()
		return stream, ctx.Err()
	}
	if sig.err != nil || !sig.subscribed {
		// The round trip failed, or the server answered with an error
		// rather than a subscription: Receive returns it as a Connect
		// error.
		_, err := stream.Receive()
		stream.Close()
		if err == nil {
			err = errorf(ErrInternal, "subscribe %q: the server answered without setting the subscription up", s.pattern)
		}
		return stream, err
	}
	return stream, nil
}

// Next returns the next message, waiting until one arrives, ctx ends or
// the subscription ends (with the reason, or ErrClosed after Close).
func (s *Subscription) Next(ctx context.Context) (*Message, error) {
	select {
	case m := <-s.ch:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		select {
		case m := <-s.ch:
			return m, nil
		default:
		}
		return nil, s.err
	}
}

// Close ends the subscription.
func (s *Subscription) Close() error {
	s.cancel()
	<-s.done
	return nil
}

// read receives from the server, reopening the stream after the server
// went away, until the subscription is closed or fails.
func (s *Subscription) read(stream subStream) {
	defer close(s.done)
	for {
		err := s.receive(stream)
		stream.Close()
		if s.ctx.Err() != nil {
			s.err = errorf(ErrClosed, "subscription closed")
			return
		}
		if !transient(err) {
			s.err = toError(err)
			return
		}
		s.c.o.log.Info("courier: subscription lost, resubscribing", "pattern", s.pattern, "err", err)
		if stream, err = s.reopen(); err != nil {
			s.err = err
			return
		}
	}
}

// receive hands messages to Next until the stream fails.
func (s *Subscription) receive(stream subStream) error {
	var dec msgDecoder
	for {
		res, err := stream.Receive()
		if err != nil {
			return err
		}
		m, err := dec.subscribed(res)
		if err != nil {
			return err
		}
		if m == nil || s.seen(m) {
			continue
		}
		select {
		case s.ch <- m:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
}

// inline hands a message to Next on the connection's reader
// (wire.InlineFunc), saving the reader goroutine's wake-up. When Next is
// a buffer behind, or the message does not decode, it is left to the
// reader goroutine (receive), which waits for room or ends the stream.
// The connection's reader calls it only while receive waits for the
// stream, so the two never run at once.
func (s *Subscription) inline(dec *msgDecoder, decode func(any) error) bool {
	if len(s.ch) == cap(s.ch) {
		return false
	}
	res := new(courierv1.SubscribeResponse)
	if decode(res) != nil {
		return false
	}
	m, err := dec.subscribed(res)
	if err != nil {
		return false
	}
	if m != nil && !s.seen(m) {
		s.ch <- m // room was checked, and nobody else sends meanwhile
	}
	return true
}

// seen records m's position and reports whether it was delivered before
// (a replay after resubscribing).
func (s *Subscription) seen(m *Message) bool {
	if m.Stream == "" {
		return false
	}
	k := partKey{m.Stream, m.Partition}
	if last, ok := s.last[k]; ok && m.Offset <= last {
		return true
	}
	s.last[k] = m.Offset
	return false
}

// resumeStart is where a resubscription starts: each partition it heard
// from after the last message it delivered there; the others where the
// subscription first started (a live one: at the time it began, so what
// was stored while the server was away is not missed). Replays of what
// was delivered are dropped by seen.
func (s *Subscription) resumeStart() *courierv1.Start {
	base := s.start
	if base.IsZero() || base.kind == startLatest {
		base = StartTime(s.began.Add(-clockMargin))
	}
	p := base.toProto()
	for k, off := range s.last {
		p.Resume = append(p.Resume, &courierv1.Position{Stream: k.stream, Partition: int32(k.partition), Offset: off + 1})
	}
	return p
}

// reopen resubscribes with backoff until it succeeds, the subscription is
// closed, or the server refuses it for good.
func (s *Subscription) reopen() (subStream, error) {
	for attempt := 0; ; attempt++ {
		if sleep(s.ctx, backoff(s.c.o.backoff, min(attempt, 6))) != nil {
			return subStream{}, errorf(ErrClosed, "subscription closed")
		}
		stream, err := s.open(s.ctx, s.resumeStart())
		if err == nil {
			return stream, nil
		}
		if s.ctx.Err() != nil {
			return stream, errorf(ErrClosed, "subscription closed")
		}
		if !transient(err) {
			return stream, toError(err)
		}
	}
}
