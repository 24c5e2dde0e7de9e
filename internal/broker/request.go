package broker

import (
	"container/heap"
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
// makes it unguessable — a replier, who sees one request's inbox, cannot
// tell the next one's and answer a request it never got — and keeps it
// apart from those of another process or an earlier run (whose replies a
// stream may keep) but with odds of 2^-64. A per-process
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
	b.request(ctx, false, 0, m, done)
}

// RequestFuncTimeout is RequestFunc for many requests under one
// long-lived ctx (a stream's), each with a timeout of its own: done gets
// ErrTimeout when timeout passes or when ctx ends, whichever comes
// first; a timeout <= 0 means none, only ctx ends the request.
//
// It spares the caller a context.WithTimeout per request, and the broker
// an AfterFunc per request: the broker keeps the timeouts in one heap
// under one timer, and watches each ctx once, with one AfterFunc that
// ends all its requests. A request then allocates its inbox and its
// waiter, nothing more. A ctx made per request works too, but costs what
// RequestFunc's does, and one that can end must end (be cancelled) for
// the broker to forget it.
func (b *Broker) RequestFuncTimeout(ctx context.Context, timeout time.Duration, m *Message, done func(*Message, error)) {
	b.request(ctx, true, max(timeout, 0), m, done)
}

// request is RequestFunc (shared false, timeout 0) and
// RequestFuncTimeout (shared true).
func (b *Broker) request(ctx context.Context, shared bool, timeout time.Duration, m *Message, done func(*Message, error)) {
	inbox := NewInbox()
	if b.inboxCaptured(inbox) { // a stream keeps replies: follow it with a subscription
		go func() { done(b.requestSubscribed(ctx, timeout, m, inbox)) }()
		return
	}
	w := &waiter{in: &b.inboxes, inbox: inbox, subject: m.Subject, ctx: ctx, done: done}
	if timeout > 0 {
		w.deadline = time.Now().Add(timeout)
	}
	if !b.inboxes.open(b.ctx, w, shared) {
		done(nil, ErrClosed)
		return
	}
	if !shared {
		w.watch()
	}
	if ctx.Err() != nil {
		return // ctx has ended: its AfterFunc ends the request
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
//
// Whatever ends a request takes its waiter out of the table first (take
// or remove, under mu), so that exactly one of them finishes it: its
// reply (offer), its ctx (the request's own AfterFunc, or its group's),
// its timeout (the heap's timer), the broker's close (closeAll), or a
// failed send.
type inboxes struct {
	mu     sync.Mutex
	m      map[string]*waiter
	closed bool                          // the broker closed: no more requests
	due    dueHeap                       // requests with a timeout, earliest first
	timer  *time.Timer                   // fires at or before due's earliest; nil until needed
	armed  time.Time                     // when timer fires; zero if it is not set
	groups map[<-chan struct{}]*ctxGroup // RequestFuncTimeout's contexts, by ctx.Done()
}

// ctxGroup is the requests waiting under one ctx of RequestFuncTimeout:
// one AfterFunc on ctx ends them all.
type ctxGroup struct {
	ctx   context.Context
	first *waiter // a list through waiter.prev and waiter.next
}

// waiter is a request waiting for its reply.
type waiter struct {
	in       *inboxes
	inbox    string
	subject  string          // the request's, for the timeout's error
	ctx      context.Context // the request's
	done     func(*Message, error)
	deadline time.Time // zero: no timeout of its own

	// Guarded by in.mu.
	due        int       // position in in.due plus one; 0 if not there
	group      *ctxGroup // nil if its ctx has an AfterFunc of its own
	prev, next *waiter   // in group

	mu       sync.Mutex
	stop     func() bool // stops the AfterFunc on ctx; nil if none (yet)
	finished bool
}

// watch arranges for expire to end the request when its ctx ends, with
// an AfterFunc of its own.
func (w *waiter) watch() {
	if w.ctx.Done() == nil {
		return // nothing ends it but a reply, a timeout or the broker's close
	}
	stop := context.AfterFunc(w.ctx, w.expire)
	w.mu.Lock()
	over := w.finished
	if !over {
		w.stop = stop
	}
	w.mu.Unlock()
	if over {
		stop()
	}
}

// expire ends the request when its ctx ends.
func (w *waiter) expire() { w.end(w.timeout(w.ctx.Err())) }

// timeout is the error of a request that got no reply, cause being why.
func (w *waiter) timeout(cause error) error {
	return fmt.Errorf("%w: no reply on %q: %w", ErrTimeout, w.subject, cause)
}

// end finishes the request with err if it is still waiting.
func (w *waiter) end(err error) {
	if w.in.take(w.inbox) == w {
		w.finish(nil, err)
	}
}

// finish stops the request's AfterFunc, if it has one, and tells it the
// outcome. Only the one that took the waiter from the table calls it.
func (w *waiter) finish(m *Message, err error) {
	w.mu.Lock()
	w.finished = true
	stop := w.stop
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
	w.done(m, err)
}

// open enters w in the table, with its timeout and, if shared, in its
// ctx's group, or reports false if the broker closed (brokerCtx ended).
// The first request registers the sweep that ends them all when
// brokerCtx ends: one AfterFunc for the broker's life, not one per
// request.
func (in *inboxes) open(brokerCtx context.Context, w *waiter, shared bool) bool {
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
	if !w.deadline.IsZero() {
		heap.Push(&in.due, w)
		in.arm(w.deadline)
	}
	if shared && w.ctx.Done() != nil {
		in.join(w)
	}
	return true
}

// join puts w in its ctx's group, made (with its AfterFunc) if it is the
// first. The caller holds mu.
func (in *inboxes) join(w *waiter) {
	g := in.groups[w.ctx.Done()]
	if g == nil {
		if in.groups == nil {
			in.groups = map[<-chan struct{}]*ctxGroup{}
		}
		g = &ctxGroup{ctx: w.ctx}
		in.groups[w.ctx.Done()] = g
		context.AfterFunc(w.ctx, func() { in.endGroup(g) })
	}
	w.group, w.next = g, g.first
	if g.first != nil {
		g.first.prev = w
	}
	g.first = w
}

// endGroup ends the requests of g, whose ctx ended, and forgets g.
func (in *inboxes) endGroup(g *ctxGroup) {
	in.mu.Lock()
	if in.groups[g.ctx.Done()] == g {
		delete(in.groups, g.ctx.Done())
	}
	var ended []*waiter
	for g.first != nil {
		ended = append(ended, g.first)
		in.remove(g.first)
	}
	in.mu.Unlock()
	for _, w := range ended {
		w.finish(nil, w.timeout(g.ctx.Err()))
	}
}

// arm makes the timer fire by deadline. The caller holds mu.
func (in *inboxes) arm(deadline time.Time) {
	if !in.armed.IsZero() && !deadline.Before(in.armed) {
		return
	}
	in.armed = deadline
	if in.timer == nil {
		in.timer = time.AfterFunc(time.Until(deadline), in.fire)
	} else {
		in.timer.Reset(time.Until(deadline))
	}
}

// fire ends the requests whose timeout passed and sets the timer for
// the next one. A request answered meanwhile has left the heap: then the
// timer fires for nothing, once, and is set again.
func (in *inboxes) fire() {
	now := time.Now()
	in.mu.Lock()
	var ended []*waiter
	for len(in.due) > 0 && !in.due[0].deadline.After(now) {
		ended = append(ended, in.due[0])
		in.remove(in.due[0])
	}
	in.armed = time.Time{}
	if len(in.due) > 0 && !in.closed {
		in.arm(in.due[0].deadline)
	}
	in.mu.Unlock()
	for _, w := range ended {
		w.finish(nil, w.timeout(context.DeadlineExceeded))
	}
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
	for _, w := range waiting {
		in.remove(w)
	}
	if in.timer != nil {
		in.timer.Stop()
	}
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
	if w != nil {
		in.remove(w)
	}
	return w
}

// remove takes w out of the table, the heap and its group. The caller
// holds mu.
func (in *inboxes) remove(w *waiter) {
	delete(in.m, w.inbox)
	if w.due > 0 {
		heap.Remove(&in.due, w.due-1)
	}
	if g := w.group; g != nil {
		if w.prev != nil {
			w.prev.next = w.next
		} else {
			g.first = w.next
		}
		if w.next != nil {
			w.next.prev = w.prev
		}
		w.group, w.prev, w.next = nil, nil, nil
	}
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

// dueHeap orders requests by deadline (container/heap); each knows its
// position, for heap.Remove when it ends otherwise.
type dueHeap []*waiter

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }

func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].due, h[j].due = i+1, j+1
}

func (h *dueHeap) Push(x any) {
	w := x.(*waiter)
	*h = append(*h, w)
	w.due = len(*h)
}

func (h *dueHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.due = 0
	return w
}
