package client

import (
	"context"
	"sync"
	"sync/atomic"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
)

// ConsumeOption configures Join and Consume.
type ConsumeOption func(*consumeOptions)

type consumeOptions struct {
	maxInFlight int
}

// MaxInFlight bounds the deliveries this member holds unsettled at once
// (0: the group's); Consume runs as many handlers at once.
func MaxInFlight(n int) ConsumeOption {
	return func(o *consumeOptions) { o.maxInFlight = n }
}

// Consumer is a member of a group, joined with Join. Take deliveries with
// Next and settle each one (Ack, Nack, Term or Reject). After the server
// restarts the consumer rejoins: the group gives the messages that were
// not acked again, and settling a delivery received before the restart
// fails harmlessly with ErrStaleDelivery.
type Consumer struct {
	c      *Client
	stream string
	group  string
	o      consumeOptions

	ctx     context.Context // ends at Close or the client's Close
	cancel  context.CancelFunc
	done    chan struct{} // closed when the reader ends
	err     error         // why the reader ended; read after done
	notify  chan struct{} // a delivery was queued
	closing atomic.Bool   // Close has half-closed the stream

	sendMu sync.Mutex // serializes Send on conn
	out    settleQueue
	acks   ackBatcher
	mu     struct {
		sync.Mutex
		gen         uint64 // connection generation; deliveries carry theirs
		conn        *consumeConn
		queue       []*Delivery
		waiters     map[uint64][]chan error // settles waiting for Settled, by delivery id
		maxInFlight int
	}
}

// consumeConn is one Consume stream.
type consumeConn struct {
	stream courierv1connect.MessagingServiceConsumeClientStream
	cancel context.CancelFunc
}

func (cc *consumeConn) close() {
	cc.cancel()
	cc.stream.Close()
}

// Join makes the caller a member of group on stream. It returns once the
// server accepted the join (ErrGroupNotFound, ErrStreamNotFound, ... if
// not).
func (c *Client) Join(ctx context.Context, stream, group string, opts ...ConsumeOption) (*Consumer, error) {
	if c.isClosed() {
		return nil, errorf(ErrClosed, "client is closed")
	}
	k := &Consumer{c: c, stream: stream, group: group,
		done: make(chan struct{}), notify: make(chan struct{}, 1)}
	for _, o := range opts {
		o(&k.o)
	}
	k.ctx, k.cancel = context.WithCancel(c.ctx)
	var conn *consumeConn
	var err error
	for attempt := 0; ; attempt++ {
		if conn, err = k.join(ctx); err == nil {
			break
		}
		if attempt >= c.o.retries || !isUnavailable(err) || sleep(ctx, backoff(c.o.backoff, attempt)) != nil {
			k.cancel()
			return nil, c.wrap(ctx, err)
		}
	}
	k.install(conn)
	if !c.goBackground(func() { k.run(conn) }) {
		k.cancel()
		conn.close()
		return nil, errorf(ErrClosed, "client is closed")
	}
	return k, nil
}

// join opens a Consume stream, sends the join and waits for Joined.
func (k *Consumer) join(ctx context.Context) (*consumeConn, error) {
	cctx, cancel := context.WithCancel(k.ctx)
	stop := context.AfterFunc(ctx, cancel) // ctx bounds the join only
	defer stop()
	stream, err := k.c.msg.Consume(cctx)
	if err != nil {
		cancel()
		return nil, err
	}
	conn := &consumeConn{stream: stream, cancel: cancel}
	// Canceling the context alone does not stop a Receive while the
	// request body is open: closing the stream does.
	context.AfterFunc(cctx, func() { stream.Close() })
	join := &courierv1.Join{Stream: k.stream, Group: k.group, MaxInFlight: int32(k.o.maxInFlight)}
	err = stream.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Join{Join: join}})
	var res *courierv1.ConsumeResponse
	if err == nil {
		res, err = stream.Receive()
	}
	if err == nil {
		err = unraw(res)
	}
	if err == nil && res.GetJoined() == nil {
		err = errorf(&Error{Code: "internal", Reason: "internal"}, "the server answered a join with %T", res.GetResponse())
	}
	if err != nil {
		conn.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	k.mu.Lock()
	k.mu.maxInFlight = int(res.GetJoined().GetMaxInFlight())
	k.mu.Unlock()
	return conn, nil
}

// install makes conn the current connection, in a new generation.
func (k *Consumer) install(conn *consumeConn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mu.gen++
	k.mu.conn = conn
	k.mu.waiters = map[uint64][]chan error{}
}

// drop ends the current generation: its deliveries go stale and settles
// waiting on it fail with err.
func (k *Consumer) drop(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mu.gen++
	k.mu.conn = nil
	k.mu.queue = nil
	for _, ws := range k.mu.waiters {
		for _, w := range ws {
			w <- err
		}
	}
	k.mu.waiters = nil
}

// MaxInFlight returns the bound on unsettled deliveries the server
// granted at the last join.
func (k *Consumer) MaxInFlight() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.mu.maxInFlight
}

// run reads the current connection, rejoining after the server went
// away, until the consumer is closed or fails.
func (k *Consumer) run(conn *consumeConn) {
	defer close(k.done)
	for {
		err := k.receive(conn)
		conn.close()
		stale := errorf(ErrStaleDelivery, "the connection that delivered this message ended; the group delivers it again")
		k.drop(stale)
		if k.ctx.Err() != nil || k.closing.Load() {
			k.err = errorf(ErrClosed, "consumer closed")
			return
		}
		if !transient(err) {
			k.err = toError(err)
			return
		}
		k.c.o.log.Info("courier: consumer lost its connection, rejoining", "stream", k.stream, "group", k.group, "err", err)
		if conn, err = k.rejoin(); err != nil {
			k.err = err
			return
		}
		k.install(conn)
	}
}

// rejoin joins again with backoff until it succeeds, the consumer is
// closed, or the server refuses it for good.
func (k *Consumer) rejoin() (*consumeConn, error) {
	for attempt := 0; ; attempt++ {
		if sleep(k.ctx, backoff(k.c.o.backoff, min(attempt, 6))) != nil {
			return nil, errorf(ErrClosed, "consumer closed")
		}
		conn, err := k.join(k.ctx)
		if err == nil {
			return conn, nil
		}
		if k.ctx.Err() != nil {
			return nil, errorf(ErrClosed, "consumer closed")
		}
		if !transient(err) {
			return nil, toError(err)
		}
	}
}

// receive queues deliveries and answers settles until the stream fails.
func (k *Consumer) receive(conn *consumeConn) error {
	var dec msgDecoder
	for {
		res, err := conn.stream.Receive()
		if err != nil {
			return err
		}
		ds, raw, err := dec.deliveries(res, k)
		if err != nil {
			return err
		}
		if raw {
			k.queue(ds)
			continue
		}
		switch r := res.GetResponse().(type) {
		case *courierv1.ConsumeResponse_Delivery:
			k.queue(fromProto(k, r.Delivery))
		case *courierv1.ConsumeResponse_Deliveries:
			k.queue(fromProto(k, r.Deliveries.GetDeliveries()...))
		case *courierv1.ConsumeResponse_Settled:
			k.settled(r.Settled)
		case *courierv1.ConsumeResponse_SettledBatch:
			k.settled(r.SettledBatch.GetSettled()...)
		}
	}
}

// fromProto makes k's deliveries of decoded ones.
func fromProto(k *Consumer, pds ...*courierv1.Delivery) []*Delivery {
	ds := make([]*Delivery, len(pds))
	for i, pd := range pds {
		m := messageFromProto(pd.GetMessage())
		if m == nil {
			m = &Message{}
		}
		ds[i] = &Delivery{Message: *m, k: k, id: pd.GetDeliveryId()}
	}
	return ds
}

// queue adds deliveries for the handlers.
func (k *Consumer) queue(ds []*Delivery) {
	k.mu.Lock()
	for _, d := range ds {
		d.gen = k.mu.gen
	}
	k.mu.queue = append(k.mu.queue, ds...)
	k.mu.Unlock()
	k.wake()
}

func (k *Consumer) wake() {
	select {
	case k.notify <- struct{}{}:
	default:
	}
}

// settled hands each Settled answer to the oldest settle waiting for it.
func (k *Consumer) settled(ss ...*courierv1.Settled) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range ss {
		var err error
		if s.GetError() != nil {
			err = batchItemError(s.GetError())
		}
		ws := k.mu.waiters[s.GetDeliveryId()]
		if len(ws) == 0 {
			if err != nil { // a quiet settle's failure: nobody waits for it
				k.c.o.log.Warn("courier: settling a delivery failed", "stream", k.stream, "group", k.group, "id", s.GetDeliveryId(), "err", err)
			}
			continue
		}
		ws[0] <- err
		if len(ws) == 1 {
			delete(k.mu.waiters, s.GetDeliveryId())
		} else {
			k.mu.waiters[s.GetDeliveryId()] = ws[1:]
		}
	}
}

// Next returns the next delivery, waiting until one arrives, ctx ends or
// the consumer ends (with the reason, or ErrClosed after Close).
func (k *Consumer) Next(ctx context.Context) (*Delivery, error) {
	for {
		if d := k.pop(); d != nil {
			return d, nil
		}
		select {
		case <-k.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-k.done:
			return nil, k.err
		}
	}
}

// pop takes the oldest queued delivery, waking another Next if more wait.
func (k *Consumer) pop() *Delivery {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.mu.queue) == 0 {
		return nil
	}
	d := k.mu.queue[0]
	k.mu.queue[0] = nil
	k.mu.queue = k.mu.queue[1:]
	if len(k.mu.queue) > 0 {
		k.wake()
	}
	return d
}

// Close leaves the group: the server gives the deliveries not settled
// to other members (or to this group again later). Deliveries that had
// arrived but were not yet taken with Next are released, so they do not
// count as delivered (see consume_close.go).
func (k *Consumer) Close() error {
	k.leave()
	k.cancel()
	<-k.done
	return nil
}
