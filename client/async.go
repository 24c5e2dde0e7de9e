package client

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// PubFuture is the outcome of an async publish, resolved once the server
// answered for the message's batch. Its channel is made only when Done
// (or a Wait that must block) asks for it.
type PubFuture struct {
	resolved atomic.Bool // ack and err are set
	mu       sync.Mutex  // guards done
	done     chan struct{}
	ack      PubAck
	err      error
}

// Done is closed once the publish is resolved.
func (f *PubFuture) Done() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done == nil {
		f.done = make(chan struct{})
		if f.resolved.Load() {
			close(f.done)
		}
	}
	return f.done
}

// Wait returns the publish's outcome once resolved, or ctx's error.
func (f *PubFuture) Wait(ctx context.Context) (PubAck, error) {
	if f.resolved.Load() {
		return f.ack, f.err
	}
	select {
	case <-f.Done():
		return f.ack, f.err
	case <-ctx.Done():
		return PubAck{}, ctx.Err()
	}
}

// Err returns the publish's error once resolved (nil before).
func (f *PubFuture) Err() error {
	if f.resolved.Load() {
		return f.err
	}
	return nil
}

func (f *PubFuture) resolve(ack PubAck, err error) {
	f.ack, f.err = ack, err
	f.mu.Lock()
	f.resolved.Store(true)
	if f.done != nil {
		close(f.done)
	}
	f.mu.Unlock()
}

func failedFuture(err error) *PubFuture {
	f := &PubFuture{}
	f.resolve(PubAck{}, err)
	return f
}

// PublishAsync queues m for publishing and returns at once with a future
// for the outcome, unless WithMaxInFlight publishes are already pending:
// then it blocks until one is answered (back-pressure).
//
// m is encoded when queued, into its lane's batch of up to WithBatch
// messages (encode.go): a message protobuf cannot encode (a string that
// is not UTF-8) fails at once with ErrInvalid, and m may be reused once
// PublishAsync returns. A background sender per lane pipelines the
// batches over the lane's PublishStream (async_stream.go). Messages with
// the same key (or, without a key, the same subject) share a lane, so
// they are stored in the order they were published, as are all messages
// with WithLanes(1).
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
		p.lanes[i] = &lane{wake: make(chan struct{}, 1), laneStream: newLaneStream()}
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

// A lane gathers its publishes into batches as they are queued: enqueue
// encodes each into the open batch, sealing it when it is full; the
// lane's sender takes the sealed batches, and the open one when it has
// nothing else to send, once a slot for it is free (so batches grow while
// the stream is busy).
type lane struct {
	laneStream
	wake chan struct{} // a batch was opened or sealed

	mu     sync.Mutex
	enc    pubEncoder
	open   *outBatch   // being filled
	ready  []*outBatch // sealed, oldest first
	spare  [][]byte    // buffers of answered batches, for reuse
	bufCap int         // the largest of them
	futs   []PubFuture // allocated ahead, a few at a time
	last   *PubFuture  // the lane's newest future; futures resolve in order
}

// outBatch is a batch of encoded publishes and their futures.
type outBatch struct {
	raw  []byte // PublishRequests, each framed as field 1 (rawRequest)
	futs []*PubFuture
}

// futureChunk is how many futures a lane allocates at once.
const futureChunk = 64

func (p *asyncPublisher) enqueue(m *Message, opts []PubOption) *PubFuture {
	select {
	case p.sem <- struct{}{}: // the common case, without a two-way select
	default:
		select {
		case p.sem <- struct{}{}:
		case <-p.stop:
			return failedFuture(errorf(ErrClosed, "client is closed"))
		}
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.mu.closed {
		<-p.sem
		return failedFuture(errorf(ErrClosed, "client is closed"))
	}
	l := p.lanes[laneOf(m, len(p.lanes))]
	l.mu.Lock()
	f, wake, err := l.add(m, opts, p.c.o.batchSize)
	l.mu.Unlock()
	if err != nil {
		<-p.sem
		return failedFuture(err)
	}
	if wake {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return f
}

// add encodes m into the open batch and returns its future; wake says a
// batch was opened or sealed. Caller holds l.mu.
func (l *lane) add(m *Message, opts []PubOption, batchSize int) (f *PubFuture, wake bool, err error) {
	n := l.enc.size(m, opts)
	b := l.open
	if b != nil && len(b.raw)+n > chunkBytes {
		l.seal()
		b, wake = nil, true
	}
	if b == nil {
		b = &outBatch{raw: l.buffer(), futs: make([]*PubFuture, 0, batchSize)}
		l.open, wake = b, true
	}
	if b.raw, err = l.enc.append(b.raw); err != nil {
		return nil, wake, err
	}
	if len(l.futs) == 0 {
		l.futs = make([]PubFuture, futureChunk)
	}
	f, l.futs = &l.futs[0], l.futs[1:]
	b.futs = append(b.futs, f)
	l.last = f
	if len(b.futs) >= batchSize {
		l.seal()
		wake = true
	}
	return f, wake, nil
}

// seal moves the open batch to the ready ones. Caller holds l.mu.
func (l *lane) seal() {
	if l.open != nil && len(l.open.futs) > 0 {
		l.ready = append(l.ready, l.open)
	}
	l.open = nil
}

// take returns the oldest sealed batch, else (with open) the open one,
// else nil.
func (l *lane) take(open bool) *outBatch {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ready) == 0 && open {
		l.seal()
	}
	if len(l.ready) == 0 {
		return nil
	}
	b := l.ready[0]
	l.ready[0] = nil
	l.ready = l.ready[1:]
	return b
}

// buffer returns a buffer for a new batch: a spare one, else one as
// large as the largest answered (so that a batch does not grow its
// buffer step by step, copying it each time). Caller holds l.mu.
func (l *lane) buffer() []byte {
	if n := len(l.spare); n > 0 {
		b := l.spare[n-1]
		l.spare = l.spare[:n-1]
		return b[:0]
	}
	if l.bufCap == 0 {
		return nil
	}
	return make([]byte, 0, l.bufCap)
}

// recycle keeps the buffer of an answered batch for a later one, unless
// it is smaller than the largest (a batch sent while few messages were
// queued, or one that grew meanwhile): reusing it would only grow it
// again. Buffers past maxBufCap (a batch with a large message) go.
func (l *lane) recycle(raw []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cap(raw) > maxBufCap {
		return
	}
	l.bufCap = max(l.bufCap, cap(raw))
	if len(l.spare) < laneDepth && cap(raw) == l.bufCap {
		l.spare = append(l.spare, raw)
	}
}

// maxBufCap bounds the batch buffers a lane keeps: a batch is sealed
// before it passes chunkBytes, so this is room for its last message too.
const maxBufCap = chunkBytes + chunkBytes/4

// laneOf spreads messages by what the server partitions by: the key,
// else the subject (FNV-1a).
func laneOf(m *Message, n int) int {
	if n == 1 {
		return 0
	}
	h := uint32(2166136261)
	if m.Key != nil {
		for _, c := range m.Key {
			h = (h ^ uint32(c)) * 16777619
		}
	} else {
		for i := 0; i < len(m.Subject); i++ {
			h = (h ^ uint32(m.Subject[i])) * 16777619
		}
	}
	return int(h % uint32(n))
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
		case <-last.Done():
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

// run is a lane's sender: it sends each batch without waiting for the
// answers (async_stream.go), and repeats.
func (p *asyncPublisher) run(l *lane) {
	for {
		select {
		case <-l.wake:
			p.sendReady(l)
		case <-l.kick:
			p.resend(l)
		case <-p.stop:
			l.closeStream()
			return
		}
	}
}

// sendReady sends the lane's batches, each once it has a slot, until
// none is left.
func (p *asyncPublisher) sendReady(l *lane) {
	for {
		p.acquire(l) // released once the batch is resolved
		b := p.next(l)
		if b == nil {
			<-l.slots
			return
		}
		p.fly(l, &flight{futs: b.futs, raw: b.raw, req: rawRequest(&courierv1.PublishStreamRequest{}, b.raw)})
	}
}

// next returns the next batch to send: a sealed one, else the open one
// once the linger has passed (or it is sealed meanwhile).
func (p *asyncPublisher) next(l *lane) *outBatch {
	if b := l.take(p.c.o.linger <= 0); b != nil || p.c.o.linger <= 0 {
		return b
	}
	t := time.NewTimer(p.c.o.linger)
	defer t.Stop()
	for {
		select {
		case <-l.wake:
			if b := l.take(false); b != nil {
				return b
			}
		case <-t.C:
			return l.take(true)
		case <-p.stop:
			return l.take(true)
		}
	}
}

// send publishes a batch with one PublishBatch call and resolves its
// futures.
func (p *asyncPublisher) send(f *flight) {
	results, err := p.publishBatch(f)
	p.resolveAll(f.futs, results, err)
}

// resolveAll resolves a batch's futures with results, or err, and frees
// their places.
func (p *asyncPublisher) resolveAll(futs []*PubFuture, results []*courierv1.PublishResult, err error) {
	for i, f := range futs {
		<-p.sem // released first: a resolved future holds no token
		switch {
		case err != nil:
			f.resolve(PubAck{}, err)
		case results[i].GetError() != nil:
			f.resolve(PubAck{}, batchItemError(results[i].GetError()))
		default:
			f.resolve(pubAckFromProto(results[i].GetAck()), nil)
		}
	}
}

// publishBatch sends a batch as one PublishBatch call, retrying it while
// the server is unavailable.
func (p *asyncPublisher) publishBatch(f *flight) ([]*courierv1.PublishResult, error) {
	c := p.c
	ctx := c.ctx
	if c.o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		res, err := p.publishBatchOnce(ctx, f)
		if err == nil {
			return res, nil
		}
		if attempt >= c.o.retries || !isUnavailable(err) || sleep(ctx, backoff(c.o.backoff, attempt)) != nil {
			return nil, c.wrap(ctx, err)
		}
	}
}

func (p *asyncPublisher) publishBatchOnce(ctx context.Context, f *flight) ([]*courierv1.PublishResult, error) {
	stream, err := p.c.msg.PublishBatch(ctx)
	if err != nil {
		return nil, err
	}
	// A batch is at most chunkBytes (but one publish): one stream message.
	if err := stream.Send(rawRequest(&courierv1.PublishBatchRequest{}, f.raw)); err != nil && !errors.Is(err, io.EOF) {
		// io.EOF: the server ended the call, and its error comes with
		// the answer.
		stream.CloseAndReceive() //nolint:errcheck // releases the stream
		return nil, err
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		return nil, err
	}
	if len(res.GetResults()) != len(f.futs) {
		return nil, errorf(&Error{Code: "internal", Reason: "internal"},
			"the server answered %d results for a batch of %d", len(res.GetResults()), len(f.futs))
	}
	return res.GetResults(), nil
}

// chunkBytes bounds one batch's stream message, well under the server's
// default read bound of 8 MiB (a single larger publish goes alone).
const chunkBytes = 1 << 20

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
