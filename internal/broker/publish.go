package broker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/courier-mq/courier/internal/subject"
)

// Publish stores m in the stream that captures its subject and returns
// once it is durable (under the stream's sync policy). A subject that no
// stream captures goes to current subscribers only, and the ack names no
// stream. m.Time is set to now when zero.
func (b *Broker) Publish(ctx context.Context, m *Message, exp Expect) (PubAck, error) {
	wait, err := b.PublishAsync(m, exp)
	if err != nil {
		return PubAck{}, err
	}
	return wait(ctx)
}

// PublishAsync is Publish in two halves. It returns once m has its offset,
// so that messages published one after another are stored in that order,
// with a wait function that returns the ack once m is durable (or the
// write's error). Validation, limits and expectations fail at once. wait
// may be called more than once; it never blocks for an uncaptured subject.
func (b *Broker) PublishAsync(m *Message, exp Expect) (func(context.Context) (PubAck, error), error) {
	if err := validateMessage(m); err != nil {
		return nil, err
	}
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	m.Time = m.Time.Truncate(time.Millisecond)
	b.mu.RLock()
	closed, s := b.closed, b.capturing(m.Subject)
	b.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if s == nil {
		if exp.LastOffset != nil || exp.LastSubjectOffset != nil {
			return nil, fmt.Errorf("%w: no stream captures %q, so there is no offset to expect", ErrStreamNotFound, m.Subject)
		}
		b.deliverCore(m)
		return func(context.Context) (PubAck, error) { return PubAck{Offset: -1}, nil }, nil
	}
	return s.publish(m, exp)
}

func (s *stream) publish(m *Message, exp Expect) (func(context.Context) (PubAck, error), error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n := msgSize(m); n > s.cfg.MaxMsgSize {
		return nil, fmt.Errorf("%w: %d bytes, stream %s allows %d", ErrTooLarge, n, s.cfg.Name, s.cfg.MaxMsgSize)
	}
	p := s.parts[s.partitionFor(m)]
	if p.full() {
		return nil, fmt.Errorf("%w: stream %s partition %d is at its limit", ErrStreamFull, s.cfg.Name, p.idx)
	}
	return p.append(m, exp)
}

// validateMessage applies the limits every message must meet.
func validateMessage(m *Message) error {
	if err := subject.ValidateSubject(m.Subject); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return validateFields(m)
}

// validateFields is validateMessage but for the subject.
func validateFields(m *Message) error {
	if m.ReplyTo != "" {
		if err := subject.ValidateSubject(m.ReplyTo); err != nil {
			return fmt.Errorf("%w: reply subject: %w", ErrInvalid, err)
		}
	}
	if len(m.Headers) > MaxHeaders {
		return fmt.Errorf("%w: %d headers, at most %d", ErrTooManyHeaders, len(m.Headers), MaxHeaders)
	}
	if n := headerBytes(m); n > MaxHeaderBytes {
		return fmt.Errorf("%w: headers take %d bytes, at most %d", ErrTooLarge, n, MaxHeaderBytes)
	}
	if k, ok := hasReserved(m.Headers); ok {
		return fmt.Errorf("%w: %q (the %q prefix is the broker's)", ErrReservedHeader, k, HeaderPrefix)
	}
	if len(m.ID) > 256 {
		return invalid("message id of %d bytes, at most 256", len(m.ID))
	}
	if m.TTL < 0 {
		return invalid("negative TTL")
	}
	return nil
}

func headerBytes(m *Message) int {
	n := 0
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// msgSize is what a stream's MaxMsgSize limits: key, payload and headers.
func msgSize(m *Message) int { return len(m.Key) + len(m.Payload) + headerBytes(m) }

// deliverCore hands a message no stream captured to current subscribers:
// first to the request waiting on it if it is a reply (inboxes.offer),
// then to every core subscription that matches. An inbox is matched
// past the subject index's cache: it comes once or twice, never again.
// The matches go to a buffer on the stack (no allocation for up to
// coreFanOut subscribers).
func (b *Broker) deliverCore(m *Message) int {
	n := 0
	reply := strings.HasPrefix(m.Subject, InboxPrefix)
	if reply && b.inboxes.offer(m) {
		n++
	}
	var buf [coreFanOut]*Subscription
	b.mu.RLock()
	var subs []*Subscription
	if reply {
		subs = b.core.MatchUncached(m.Subject, buf[:0])
	} else {
		subs = b.core.Match(m.Subject, buf[:0])
	}
	b.mu.RUnlock()
	for _, s := range subs {
		s.offerCore(m)
	}
	return n + len(subs)
}

// coreFanOut is how many core subscribers deliverCore matches without
// allocating.
const coreFanOut = 8
