package wire

import "sync"

// connFlow is a connection's flow control, across its streams: each
// side may have at most a window of message bytes unread by the other
// (the sum over streams; each stream also has its own window), so a
// connection's queued messages are bounded however many streams it
// opens. A receiver credits bytes back with a window frame on stream 0
// once its readers took them or it dropped them (a message for a stream
// that is over).
type connFlow struct {
	out *credit // what this side may still send

	mu     sync.Mutex
	recv   int // the window this side grants
	queued int // message bytes received and not yet credited back
	owed   int // of those, taken or dropped and not yet credited
	grant  func(n int)
}

// A connection's windows differ by direction. A server takes at most
// serverConnWindow bytes unread from a client, which bounds what one
// connection can make it hold; its handlers read as messages come, so
// that is seldom reached. A client takes up to clientConnWindow from the
// server, as Go's HTTP/2 client does, so that streams its application
// leaves unread (each within its own window) do not stall the others.
const (
	serverConnWindow = 32 << 20
	clientConnWindow = 1 << 30
)

// newConnFlow is the flow of a connection that takes recv bytes unread
// and may send send; grant sends a window frame on stream 0.
func newConnFlow(recv, send int, grant func(n int)) *connFlow {
	return &connFlow{out: newCredit(send), recv: recv, grant: grant}
}

// msgCost is what a message of n bytes spends of a window: its frame
// header too, so that empty messages are not free.
func msgCost(n int) int { return n + headerLen }

// received counts n bytes of messages (msgCost); false means the sender went
// beyond the connection's credit.
func (f *connFlow) received(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	over := f.queued >= f.recv
	f.queued += n
	return !over
}

// release credits back n received bytes, in batches.
func (f *connFlow) release(n int) {
	if n == 0 {
		return
	}
	f.mu.Lock()
	f.owed += n
	g := 0
	if f.owed >= f.recv/8 {
		g = f.owed
		f.owed, f.queued = 0, f.queued-g
	}
	f.mu.Unlock()
	if g > 0 {
		f.grant(g)
	}
}
