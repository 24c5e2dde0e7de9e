package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
	sub, err := b.Subscribe(inbox, Start{Kind: StartLatest}, 1)
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	m.ReplyTo = inbox
	if err := validateMessage(m); err != nil {
		return nil, err
	}
	b.mu.RLock()
	captured := b.capturing(m.Subject) != nil
	b.mu.RUnlock()
	if captured {
		if _, err := b.Publish(ctx, m, Expect{}); err != nil {
			return nil, err
		}
	} else if m.Time = nowTime(); b.deliverCore(m) == 0 {
		return nil, fmt.Errorf("%w: nobody subscribes to %q", ErrNoResponders, m.Subject)
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
