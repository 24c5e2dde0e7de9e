package broker

import (
	"sync"
	"sync/atomic"
)

// Direct delivery. A subscription's live messages (subjects no stream
// captures) normally wait in its buffer until its consumer's goroutine
// takes them: the publisher wakes that goroutine for each message. A
// consumer that can take a message on the publisher's goroutine without
// waiting (a front-end whose stream can be written without blocking)
// asks for them with Direct, and saves that wake-up.
//
// Order is kept as a buffer keeps it: a live message goes to the direct
// function only while the buffer is empty and the consumer has said,
// with Idle, that it handled every message it took and waits for more.
// A message the function declines goes to the buffer, and so do the
// live messages after it, until the consumer is idle again. Stored
// messages (those a stream captures) always go through the buffer; they
// have no order with the live ones, whose subjects differ.

// subDirect is a subscription's direct delivery.
type subDirect struct {
	on   atomic.Bool // fn is set
	mu   sync.Mutex  // held while a live message is offered
	fn   func(*Message) bool
	idle bool // the consumer waits, having handled all it took
}

// Direct makes the subscription offer each live message to fn on the
// publisher's goroutine, while the consumer is idle (Idle) and nothing
// is buffered. fn returns false when it cannot take the message without
// waiting, and the message is buffered as usual; fn must not block, and
// must not call the subscription's methods. Direct(nil) ends it, waiting
// for a call under way; Close does too.
func (s *Subscription) Direct(fn func(*Message) bool) {
	s.direct.mu.Lock()
	s.direct.fn, s.direct.idle = fn, false
	s.direct.on.Store(fn != nil)
	s.direct.mu.Unlock()
}

// Idle tells the subscription that its consumer handled every message
// it took and is about to wait for the next one, so live messages may
// go to the direct function. It reports false when a message is
// buffered: the consumer takes that one first.
func (s *Subscription) Idle() bool {
	s.direct.mu.Lock()
	defer s.direct.mu.Unlock()
	if len(s.c) > 0 {
		return false
	}
	s.direct.idle = true
	return true
}

// offerDirect gives m to the direct function or buffers it, under the
// lock, so that Idle sees it buffered; false when the buffer is full
// (offerCore cuts the consumer).
func (s *Subscription) offerDirect(m *Message) bool {
	s.direct.mu.Lock()
	defer s.direct.mu.Unlock()
	if s.takeDirect(m) {
		return true
	}
	select {
	case s.c <- m:
		return true
	default:
		return false
	}
}

// takeDirect offers m to the direct function when order allows, and
// reports whether it took m. A declined message, and every live one
// after it, is buffered until the consumer is idle again. Caller holds
// s.direct.mu.
func (s *Subscription) takeDirect(m *Message) bool {
	d := &s.direct
	if d.fn != nil && d.idle && len(s.c) == 0 && d.fn(m) {
		return true
	}
	// m is buffered: the consumer is not idle until it has taken m (and
	// said so), even when what made m wait was a stored message.
	d.idle = false
	return false
}
