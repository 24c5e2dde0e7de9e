package client

import (
	"context"
	"errors"
	"google.golang.org/protobuf/proto"
	"hash/fnv"
	"io"
	"sync"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// PubFuture is the outcome of an async publish, resolved once the server
// answered for the message's batch.
type PubFuture struct {
	done chan struct{}
	ack  PubAck
	err  error
}

// Done is closed once the publish is resolved.
func (f *PubFuture) Done() <-chan struct{} { return f.done }

// Wait returns the publish's outcome once resolved, or ctx's error.
func (f *PubFuture) Wait(ctx context.Context) (PubAck, error) {
	select {
	case <-f.done:
		return f.ack, f.err
	case <-ctx.Done():
		return PubAck{}, ctx.Err()
	}
}

// Err returns the publish's error once resolved (nil before).
func (f *PubFuture) Err() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

func (f *PubFuture) resolve(ack PubAck, err error) {
	f.ack, f.err = ack, err
	close(f.done)
}

func failedFuture(err error) *PubFuture {
	f := &PubFuture{done: make(chan struct{})}
	f.resolve(PubAck{}, err)
	return f
}

// PublishAsync queues m for publishing and returns at once with a future
// for the outcome, unless WithMaxInFlight publishes are already pending:
// then it blocks until one is answered (back-pressure).
//
// A background sender per lane collects pending messages into batches of
// up to WithBatch messages and pipelines them over the lane's
// PublishStream (async_stream.go). Messages with the same key (or,
// without a key, the same subject) share a lane, so they are stored in
// the order they were published, as are all messages with WithLanes(1).
func (c *Client) PublishAsync(m *Message, opts ...PubOption) *PubFuture {
	c.pubOnce.Do(c.startPublisher)
	return c.pub.enqueue(m, opts)
}

// Flush waits until every async publish queued so far is resolved.
func (c *Client) Flush(ctx context.Context) error {
	c.pubOnce.Do(c.startPublisher)
	return c.pub.flush(ctx)
}

// startPublisher starts the lanes; on a closed client it makes a
// publisher that refuses everything.
func (c *Client) startPublisher() {
	p := &asyncPublisher{c: c, sem: make(chan struct{}, c.o.maxInFlight), stop: make(chan struct{})}
	p.lanes = make([]*lane, c.o.lanes)
	for i := range p.lanes {
		p.lanes[i] = &lane{ch: make(chan pending, c.o.maxInFlight), laneStream: newLaneStream()}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pub = p
	if c.closed {
		p.mu.closed = true
		close(p.stop)
		return
	}
	for _, l := range p.lanes {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			p.run(l)
		}()
	}
}

type pending struct {
	req *courierv1.PublishRequest
	f   *PubFuture
}

type asyncPublisher struct {
	c     *Client
	sem   chan struct{} // one token per pending publish
	lanes []*lane
	stop  chan struct{}  // closed after the final flush
	recv  sync.WaitGroup // the lanes' stream receivers (async_stream.go)

	mu struct {
		sync.RWMutex
		closed bool
	}
}

type lane struct {
	laneStream
	ch   chan pending
	mu   sync.Mutex
	last *PubFuture // the lane's newest future; futures resolve in order
}

func (p *asyncPublisher) enqueue(m *Message, opts []PubOption) *PubFuture {
	select {
	case p.sem <- struct{}{}:
	case <-p.stop:
		return failedFuture(errorf(ErrClosed, "client is closed"))
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.mu.closed {
		<-p.sem
		return failedFuture(errorf(ErrClosed, "client is closed"))
	}
	f := &PubFuture{done: make(chan struct{})}
	l := p.lanes[laneOf(m, len(p.lanes))]
	l.mu.Lock()
	l.ch <- pending{req: publishRequest(m, opts), f: f} // never blocks: sem bounds the total
	l.last = f
	l.mu.Unlock()
	return f
}

// laneOf spreads messages by what the server partitions by: the key,
// else the subject.
func laneOf(m *Message, n int) int {
	if n == 1 {
		return 0
	}
	h := fnv.New32a()
	if m.Key != nil {
		h.Write(m.Key)
	} else {
		h.Write([]byte(m.Subject))
	}
	return int(h.Sum32() % uint32(n))
}

func (p *asyncPublisher) flush(ctx context.Context) error {
	for _, l := range p.lanes {
		l.mu.Lock()
		last := l.last
		l.mu.Unlock()
		if last == nil {
			continue
		}
		select {
		case <-last.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// close refuses new publishes, waits for the queued ones, and stops the
// lanes.
func (p *asyncPublisher) close() error {
	p.mu.Lock()
	p.mu.closed = true
	p.mu.Unlock()
	err := p.flush(context.Background())
	close(p.stop)
	p.recv.Wait() // the lanes close their streams on stop
	return err
}

// run is a lane's sender: it gathers a batch, sends it without waiting
// for the answer (async_stream.go), and repeats.
func (p *asyncPublisher) run(l *lane) {
	batch := make([]pending, 0, p.c.o.batchSize)
	for {
		select {
		case first := <-l.ch:
			batch = p.gather(l, append(batch[:0], first))
			p.dispatch(l, batch)
			clear(batch)
		case <-l.kick:
			p.resend(l)
		case <-p.stop:
			l.closeStream()
			return
		}
	}
}

// gather adds what is pending to batch, up to the batch size, waiting up
// to the linger for more.
func (p *asyncPublisher) gather(l *lane, batch []pending) []pending {
	var timeout <-chan time.Time
	if p.c.o.linger > 0 {
		t := time.NewTimer(p.c.o.linger)
		defer t.Stop()
		timeout = t.C
	}
	for len(batch) < p.c.o.batchSize {
		select {
		case pd := <-l.ch:
			batch = append(batch, pd)
			continue
		default:
		}
		if timeout == nil {
			return batch
		}
		select {
		case pd := <-l.ch:
			batch = append(batch, pd)
		case <-timeout:
			return batch
		}
	}
	return batch
}

// send publishes batch with one PublishBatch call and resolves its
// futures.
func (p *asyncPublisher) send(batch []pending) {
	results, err := p.publishBatch(batch)
	p.resolveAll(batch, results, err)
}

// resolveAll resolves batch's futures with results, or err, and frees
// their places.
func (p *asyncPublisher) resolveAll(batch []pending, results []*courierv1.PublishResult, err error) {
	for i, pd := range batch {
		<-p.sem // released first: a resolved future holds no token
		switch {
		case err != nil:
			pd.f.resolve(PubAck{}, err)
		case results[i].GetError() != nil:
			pd.f.resolve(PubAck{}, batchItemError(results[i].GetError()))
		default:
			pd.f.resolve(pubAckFromProto(results[i].GetAck()), nil)
		}
	}
}

// publishBatch sends batch as one PublishBatch call, retrying the whole
// batch while the server is unavailable.
func (p *asyncPublisher) publishBatch(batch []pending) ([]*courierv1.PublishResult, error) {
	c := p.c
	ctx := c.ctx
	if c.o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		res, err := p.publishBatchOnce(ctx, batch)
		if err == nil {
			return res, nil
		}
		if attempt >= c.o.retries || !isUnavailable(err) || sleep(ctx, backoff(c.o.backoff, attempt)) != nil {
			return nil, c.wrap(ctx, err)
		}
	}
}

func (p *asyncPublisher) publishBatchOnce(ctx context.Context, batch []pending) ([]*courierv1.PublishResult, error) {
	stream, err := p.c.msg.PublishBatch(ctx)
	if err != nil {
		return nil, err
	}
	for rest := batch; len(rest) > 0; {
		req, n := batchChunk(rest)
		rest = rest[n:]
		if err := stream.Send(req); err != nil {
			if errors.Is(err, io.EOF) {
				break // the server ended the call: its error comes with the answer
			}
			stream.CloseAndReceive() //nolint:errcheck // releases the stream
			return nil, err
		}
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		return nil, err
	}
	if len(res.GetResults()) != len(batch) {
		return nil, errorf(&Error{Code: "internal", Reason: "internal"},
			"the server answered %d results for a batch of %d", len(res.GetResults()), len(batch))
	}
	return res.GetResults(), nil
}

// chunkBytes bounds one PublishBatch stream message, well under the
// server's default read bound of 8 MiB.
const chunkBytes = 1 << 20

// batchChunk puts the head of batch into one stream message of at most
// chunkBytes (but at least one publish), and says how many it took.
func batchChunk(batch []pending) (*courierv1.PublishBatchRequest, int) {
	req := &courierv1.PublishBatchRequest{Publishes: make([]*courierv1.PublishRequest, 0, len(batch))}
	size := 0
	for _, pd := range batch {
		n := proto.Size(pd.req)
		if len(req.Publishes) > 0 && size+n > chunkBytes {
			break
		}
		req.Publishes = append(req.Publishes, pd.req)
		size += n
	}
	return req, len(req.Publishes)
}

// batchItemError converts one failed item of a batch.
func batchItemError(e *courierv1.Error) *Error {
	return &Error{Code: codeOfReason(e.GetReason()), Reason: e.GetReason(), Message: e.GetMessage()}
}

var reasonCodes = func() map[string]string {
	m := map[string]string{}
	for _, s := range []*Error{ErrStreamNotFound, ErrGroupNotFound, ErrStreamExists, ErrGroupExists,
		ErrSubjectCaptured, ErrStreamHasGroups, ErrInvalid, ErrTooLarge, ErrTooManyHeaders,
		ErrReservedHeader, ErrWrongLastOffset, ErrStreamFull, ErrOffsetOutOfRange,
		ErrNoResponders, ErrTimeout, ErrAlreadySettled, ErrUnknownDelivery, ErrSlowConsumer,
		ErrMemberLeft, ErrShuttingDown, ErrRequestTooLarge, ErrInternal} {
		m[s.Reason] = s.Code
	}
	return m
}()

func codeOfReason(reason string) string {
	if c, ok := reasonCodes[reason]; ok {
		return c
	}
	return "unknown"
}
