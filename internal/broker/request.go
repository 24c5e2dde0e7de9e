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
	inbox := NewInbox()
	b.mu.RLock()
	captured := b.capturing(inbox) != nil
	b.mu.RUnlock()
	if captured { // a stream keeps replies: follow it with a subscription
		return b.requestSubscribed(ctx, m, inbox)
	}
	replies := b.inboxes.open(inbox)
	defer b.inboxes.close(inbox)
	if err := b.sendRequest(ctx, m, inbox); err != nil {
		return nil, err
	}
	select {
	case r := <-replies:
		return r, nil
	case <-b.ctx.Done():
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: no reply on %q: %w", ErrTimeout, m.Subject, ctx.Err())
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
// the channel its first reply goes to. A reply is handed over directly:
// a subscription per request would take the broker's write lock and
// change the subject index (and its match cache) twice per request.
type inboxes struct {
	mu sync.Mutex
	m  map[string]chan *Message
}

func (in *inboxes) open(inbox string) chan *Message {
	ch := make(chan *Message, 1)
	in.mu.Lock()
	if in.m == nil {
		in.m = map[string]chan *Message{}
	}
	in.m[inbox] = ch
	in.mu.Unlock()
	return ch
}

func (in *inboxes) close(inbox string) {
	in.mu.Lock()
	delete(in.m, inbox)
	in.mu.Unlock()
}

// offer hands m to the request waiting on its subject, if any (a later
// reply is dropped, as a subscription of one would drop it), and reports
// whether one was waiting.
func (in *inboxes) offer(m *Message) bool {
	if !strings.HasPrefix(m.Subject, InboxPrefix) {
		return false
	}
	in.mu.Lock()
	ch, ok := in.m[m.Subject]
	in.mu.Unlock()
	if ok {
		select {
		case ch <- m:
		default:
		}
	}
	return ok
}
