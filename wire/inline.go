package wire

import (
	"bytes"
	"context"
)

// Inline taking. A stream's messages normally wait in its inbox until
// the goroutine reading the stream (a handler's, a client's receiver)
// takes them with Receive: the connection's reader wakes that goroutine
// for each message. A stream can instead ask for its messages to be
// handled on the connection's reader itself, by an InlineFunc, which
// saves that hand-off: a request or a reply goes on at once, as a
// server that processes what it reads in its read loop would.
//
// The reader never waits, so an InlineFunc must not either: it handles
// a message at once, or refuses it (false), and the message is queued
// for Receive as usual. Order is kept: the reader offers a message
// inline only while nothing is queued and the goroutine reading the
// stream has come back for the next message (it is not still handling
// the last one), so a refused message and those after it go through
// Receive, in order, until that goroutine catches up.

// An InlineFunc handles one of a stream's messages on the connection's
// reader. decode decodes the message with the stream's codec (it may be
// called more than once, and not after fn returns). fn returns true if
// it handled the message, false to leave it to Receive; it must not
// block.
type InlineFunc func(decode func(msg any) error) bool

type inlineKey struct{}

// WithInline returns a context whose client streams (those opened with
// it on a wire Transport) hand their response messages to fn. Another
// transport ignores it.
func WithInline(ctx context.Context, fn InlineFunc) context.Context {
	return context.WithValue(ctx, inlineKey{}, fn)
}

func inlineFrom(ctx context.Context) InlineFunc {
	fn, _ := ctx.Value(inlineKey{}).(InlineFunc)
	return fn
}

type serverStreamKey struct{}

// Inline makes the wire server stream of a handler's ctx hand its
// request messages to fn from now on. The handler still receives as
// before (Receive): the messages fn refuses, and the stream's end, come
// that way. stop ends inline taking, waiting for a call under way; a
// handler calls it before it returns. ok is false when ctx is not a
// wire stream's (another transport): nothing changes then.
func Inline(ctx context.Context, fn InlineFunc) (stop func(), ok bool) {
	st, _ := ctx.Value(serverStreamKey{}).(*serverStream)
	if st == nil {
		return func() {}, false
	}
	st.in.setInline(inlineDecoder(func(b *bytes.Buffer, msg any) error {
		return st.c.s.codec.UnmarshalRead(st.ctx, b, msg)
	}, fn))
	return func() { st.in.setInline(nil) }, true
}

// inlineCopyBytes is the largest message an inline decode copies.
const inlineCopyBytes = 4 << 10

// inlineDecoder wraps fn for an inbox: it gives fn a decode over the
// message's bytes with unmarshal.
func inlineDecoder(unmarshal func(*bytes.Buffer, any) error, fn InlineFunc) func([]byte) bool {
	var p []byte // the message of the call under way
	var buf bytes.Buffer
	decode := func(msg any) error {
		// A small message is copied into buf, which is kept (a buffer
		// over p would be allocated for each message); a large one is
		// read where it is.
		if len(p) > inlineCopyBytes {
			big := bytes.NewBuffer(p)
			return unmarshal(big, msg)
		}
		buf.Reset()
		buf.Write(p)
		return unmarshal(&buf, msg)
	}
	return func(b []byte) bool {
		p = b
		ok := fn(decode)
		p = nil
		return ok
	}
}

// takeInline offers p to the inline function, if there is one and order
// allows, and reports whether it took it. Caller holds q.mu; it is
// released when p was taken.
func (q *inbox) takeInline(p []byte) bool {
	if q.inline == nil || q.end != nil || q.held || len(q.msgs) > q.head {
		return false
	}
	fn := q.inline
	q.running++
	q.mu.Unlock()
	taken := fn(p)
	q.mu.Lock()
	if q.running--; q.running == 0 && q.idle != nil {
		close(q.idle)
		q.idle = nil
	}
	if !taken {
		return false
	}
	n := msgCost(len(p))
	q.queued += n
	q.mu.Unlock()
	putMsgBuf(p)
	if g := q.consumed(len(p)); g > 0 && q.credit != nil {
		q.credit(g)
	}
	return true
}

// setInline sets (or with nil, ends) inline taking; ending it waits for
// a call under way.
func (q *inbox) setInline(fn func([]byte) bool) {
	q.mu.Lock()
	q.inline = fn
	var idle chan struct{}
	if fn == nil && q.running > 0 {
		if q.idle == nil {
			q.idle = make(chan struct{})
		}
		idle = q.idle
	}
	q.mu.Unlock()
	if idle != nil {
		<-idle
	}
}
