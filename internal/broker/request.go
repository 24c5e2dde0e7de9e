package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// InboxPrefix starts the private subjects replies come back on.
const InboxPrefix = "_INBOX."

// inboxSeq numbers the inboxes of this process.
var inboxSeq atomic.Uint64

// NewInbox returns a fresh private reply subject: InboxPrefix, 16 hex
// digits of 64 random bits, then a sequence number in base 36. The
// sequence number makes it unique in this process (the random part has a
// fixed length, so the two never run into each other); the random part
// makes it unguessable: a replier, who sees one request's inbox, cannot
// tell the next one's and answer a request it never got. A per-process
// prefix and a counter, as NATS has per connection, would be cheaper but
// predictable, and the broker's inbox table is shared by every client.
// It costs one allocation and about 0.1 µs (crypto/rand), against three
// allocations for the hex string it replaced.
func NewInbox() string {
	var random [8]byte
	rand.Read(random[:])
	var buf [len(InboxPrefix) + 2*len(random) + 13]byte // 13: base-36 digits of a uint64
	n := copy(buf[:], InboxPrefix)
	n += hex.Encode(buf[n:], random[:])
	return string(strconv.AppendUint(buf[:n], inboxSeq.Add(1), 36))
}

// Request publishes m with a private reply subject and waits for the
// first reply, until ctx ends (ErrTimeout). A request to a subject that no
// stream captures and nobody subscribes to fails at once with
// ErrNoResponders.
func (b *Broker) Request(ctx context.Context, m *Message) (*Message, error) {
	type answer struct {
		m   *Message
		err error
	}
	ch := make(chan answer, 1)
	b.RequestFunc(ctx, m, func(r *Message, err error) { ch <- answer{r, err} })
	a := <-ch
	return a.m, a.err
}

// RequestFunc is Request without the wait: it publishes m with a private
// reply subject and calls done once, with the first reply or with why
// there is none (ErrNoResponders, ErrTimeout when ctx ends, ErrClosed).
// done runs on the goroutine that delivered the reply or saw the end (a
// replier's publish, a timer, the broker's close, or the caller's own
// for a failure at once), so it must not block. A server answers a
// request from there without a goroutine of its own waiting for it.
//
// A request costs a waiter in the inbox table and, if ctx can end, one
// context.AfterFunc; the broker's close ends every waiting request with
// one sweep of the table (inboxes.closeAll).
func (b *Broker) RequestFunc(ctx context.Context, m *Message, done func(*Message, error)) {
	b.request(ctx, 0, m, done)
}

// RequestFuncTimeout is RequestFunc with a timeout of its own: done gets
// ErrTimeout when timeout passes or when ctx ends, whichever comes
// first. It spares a caller with one long-lived ctx (a stream's) a
// context.WithTimeout per request: that one costs four allocations, and
// the AfterFunc on a fresh context two more for its table of children,
// where a timer costs one. A timeout <= 0 means none: only ctx ends it.
func (b *Broker) RequestFuncTimeout(ctx context.Context, timeout time.Duration, m *Message, done func(*Message, error)) {
	b.request(ctx, max(timeout, 0), m, done)
}

// request is RequestFuncTimeout; timeout 0 means none.
func (b *Broker) request(ctx context.Context, timeout time.Duration, m *Message, done func(*Message, error)) {
	inbox := NewInbox()
	if b.inboxCaptured(inbox) { // a stream keeps replies: follow it with a subscription
		go func() { done(b.requestSubscribed(ctx, timeout, m, inbox)) }()
		return
	}
	w := &waiter{in: &b.inboxes, inbox: inbox, subject: m.Subject, ctx: ctx, done: done}
	if !b.inboxes.open(b.ctx, w) {
		done(nil, ErrClosed)
		return
	}
	if w.watch(timeout) {
		return // ctx has ended: expire ends the request
	}
	if err := b.sendRequest(ctx, m, inbox); err != nil {
		w.end(err)
	}
}

// inboxCaptured reports whether a stream captures inbox. The inbox is
// new, so the match skips the capture index's result cache.
func (b *Broker) inboxCaptured(inbox string) bool {
	var buf [2]*stream
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.capture.MatchUncached(inbox, buf[:0])) > 0
}

// requestSubscribed is Request with a subscription to the inbox, and
// timeout (if > 0) added to ctx.
func (b *Broker) requestSubscribed(ctx context.Context, timeout time.Duration, m *Message, inbox string) (*Message, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	sub, err := b.Subscribe(inbox, Start{Kind: StartLatest}, 1)
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	if err := b.sendRequest(ctx, m, inbox); err != nil {
		return nil, err
	}
	select {
	case r := <-sub.Messages():
		return r, nil
	case <-sub.Done():
		return nil, sub.Err()
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: no reply on %q: %w", ErrTimeout, m.Subject, ctx.Err())
	}
}

// sendRequest publishes m with reply subject inbox.
func (b *Broker) sendRequest(ctx context.Context, m *Message, inbox string) error {
	m.ReplyTo = inbox
	if err := validateMessage(m); err != nil {
		return err
	}
	b.mu.RLock()
	captured := b.capturing(m.Subject) != nil
	b.mu.RUnlock()
	if captured {
		_, err := b.Publish(ctx, m, Expect{})
		return err
	}
	if m.Time = nowTime(); b.deliverCore(m) == 0 {
		return fmt.Errorf("%w: nobody subscribes to %q", ErrNoResponders, m.Subject)
	}
	return nil
}

// inboxes are the reply subjects of the requests in progress, each with
// the request waiting for its first reply. A reply is handed over
// directly: a subscription per request would take the broker's write
// lock and change the subject index (and its match cache) twice per
// request.
type inboxes struct {
	mu     sync.Mutex
	m      map[string]*waiter
	closed bool // the broker closed: no more requests
}

// waiter is a request waiting for its reply. Whoever takes it from the
// table (its reply, its end by ctx or timer, the broker's close, a
// failed send) finishes it, once.
type waiter struct {
	in      *inboxes
	inbox   string
	subject string          // the request's, for the timeout's error
	ctx     context.Context // the request's
	done    func(*Message, error)

	mu       sync.Mutex
	stop     func() bool // stops the AfterFunc on ctx; nil if none (yet)
	timer    *time.Timer // the request's own timeout; nil if none (yet)
	finished bool
}

// watch arranges for expire to end the request when ctx ends or timeout
// (if > 0) passes, and reports whether ctx has ended already.
func (w *waiter) watch(timeout time.Duration) (ended bool) {
	if w.ctx.Done() == nil && timeout == 0 {
		return false // nothing ends it but a reply or the broker's close
	}
	expire := w.expire // one func value for both
	var stop func() bool
	var timer *time.Timer
	if w.ctx.Done() != nil {
		stop = context.AfterFunc(w.ctx, expire)
	}
	if timeout > 0 {
		timer = time.AfterFunc(timeout, expire)
	}
	w.mu.Lock()
	over := w.finished
	if !over {
		w.stop, w.timer = stop, timer
	}
	w.mu.Unlock()
	if over {
		stopAll(stop, timer)
	}
	return w.ctx.Err() != nil
}

func stopAll(stop func() bool, timer *time.Timer) {
	if stop != nil {
		stop()
	}
	if timer != nil {
		timer.Stop()
	}
}

// expire ends the request when its ctx ends or its timeout passes (on
// the AfterFunc's or the timer's goroutine).
func (w *waiter) expire() {
	cause := w.ctx.Err()
	if cause == nil { // the request's own timeout
		cause = context.DeadlineExceeded
	}
	w.end(fmt.Errorf("%w: no reply on %q: %w", ErrTimeout, w.subject, cause))
}

// end finishes the request with err if it is still waiting.
func (w *waiter) end(err error) {
	if w.in.take(w.inbox) == w {
		w.finish(nil, err)
	}
}

// finish stops the request's AfterFunc and timer and tells it the
// outcome. Only the one that took the waiter from the table calls it.
func (w *waiter) finish(m *Message, err error) {
	w.mu.Lock()
	w.finished = true
	stop, timer := w.stop, w.timer
	w.mu.Unlock()
	stopAll(stop, timer)
	w.done(m, err)
}

// open enters w in the table, or reports false if the broker closed
// (brokerCtx ended). The first request registers the sweep that ends
// them all when brokerCtx ends: one AfterFunc for the broker's life, not
// one per request.
func (in *inboxes) open(brokerCtx context.Context, w *waiter) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || brokerCtx.Err() != nil {
		return false
	}
	if in.m == nil {
		in.m = map[string]*waiter{}
		context.AfterFunc(brokerCtx, in.closeAll)
	}
	in.m[w.inbox] = w
	return true
}

// closeAll ends every waiting request with ErrClosed and refuses new
// ones.
func (in *inboxes) closeAll() {
	in.mu.Lock()
	in.closed = true
	waiting := make([]*waiter, 0, len(in.m))
	for _, w := range in.m {
		waiting = append(waiting, w)
	}
	clear(in.m)
	in.mu.Unlock()
	for _, w := range waiting {
		w.finish(nil, ErrClosed)
	}
}

// take removes and returns the request waiting on inbox, if any.
func (in *inboxes) take(inbox string) *waiter {
	in.mu.Lock()
	defer in.mu.Unlock()
	w := in.m[inbox]
	delete(in.m, inbox)
	return w
}

// offer hands m to the request waiting on its subject, if any (a later
// reply finds none and is dropped, as a subscription of one would drop
// it), and reports whether one was waiting.
func (in *inboxes) offer(m *Message) bool {
	if !strings.HasPrefix(m.Subject, InboxPrefix) {
		return false
	}
	w := in.take(m.Subject)
	if w != nil {
		w.finish(m, nil)
	}
	return w != nil
}
