package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

// InboxPrefix starts the private subjects replies come back on.
const InboxPrefix = "_INBOX."

// NewInbox returns a fresh private reply subject.
func NewInbox() string {
	var b [12]byte
	rand.Read(b[:])
	return InboxPrefix + hex.EncodeToString(b[:])
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
// replier's publish, a timer), so it must not block. A server answers a
// request from there without a goroutine of its own waiting for it.
func (b *Broker) RequestFunc(ctx context.Context, m *Message, done func(*Message, error)) {
	inbox := NewInbox()
	b.mu.RLock()
	captured := b.capturing(inbox) != nil
	b.mu.RUnlock()
	if captured { // a stream keeps replies: follow it with a subscription
		go func() { done(b.requestSubscribed(ctx, m, inbox)) }()
		return
	}
	w := &waiter{done: done}
	b.inboxes.open(inbox, w)
	end := func(err error) {
		if w := b.inboxes.take(inbox); w != nil {
			w.finish(nil, err)
		}
	}
	w.setStops(
		context.AfterFunc(ctx, func() {
			end(fmt.Errorf("%w: no reply on %q: %w", ErrTimeout, m.Subject, ctx.Err()))
		}),
		context.AfterFunc(b.ctx, func() { end(ErrClosed) }),
	)
	if ctx.Err() != nil {
		return // the timer ends it
	}
	if err := b.sendRequest(ctx, m, inbox); err != nil {
		end(err)
	}
}

// requestSubscribed is Request with a subscription to the inbox.
func (b *Broker) requestSubscribed(ctx context.Context, m *Message, inbox string) (*Message, error) {
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
	mu sync.Mutex
	m  map[string]*waiter
}

// waiter is a request waiting for its reply.
type waiter struct {
	done func(*Message, error)

	mu       sync.Mutex
	stops    []func() bool // its timers
	finished bool
}

// setStops records the request's timers, or stops them if it is over.
func (w *waiter) setStops(stops ...func() bool) {
	w.mu.Lock()
	over := w.finished
	if !over {
		w.stops = stops
	}
	w.mu.Unlock()
	if over {
		for _, stop := range stops {
			stop()
		}
	}
}

// finish stops the request's timers and tells it the outcome. Only the
// one that took the waiter from the table calls it.
func (w *waiter) finish(m *Message, err error) {
	w.mu.Lock()
	w.finished = true
	stops := w.stops
	w.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	w.done(m, err)
}

func (in *inboxes) open(inbox string, w *waiter) {
	in.mu.Lock()
	if in.m == nil {
		in.m = map[string]*waiter{}
	}
	in.m[inbox] = w
	in.mu.Unlock()
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
