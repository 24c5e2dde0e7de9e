package wire

import "sync"

// connFlow is a connection's flow control, across its streams: each
// side may have at most connWindow message bytes unread by the other
// (the sum over streams; each stream also has its own window), so a
// connection's queued messages are bounded however many streams it
// opens. A receiver credits bytes back with a window frame on stream 0
// once its readers took them or it dropped them (a message for a stream
// that is over).
type connFlow struct {
	out *credit // what this side may still send

	mu     sync.Mutex
	queued int // message bytes received and not yet credited back
	owed   int // of those, taken or dropped and not yet credited
	grant  func(n int)
}

// connWindow is a connection's credit.
const connWindow = 32 << 20

func newConnFlow(grant func(n int)) *connFlow {
	return &connFlow{out: newCredit(connWindow), grant: grant}
}

// received counts a message of n bytes; false means the sender went
// beyond the connection's credit.
func (f *connFlow) received(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	over := f.queued >= connWindow
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
	if f.owed >= connWindow/8 {
		g = f.owed
		f.owed, f.queued = 0, f.queued-g
	}
	f.mu.Unlock()
	if g > 0 {
		f.grant(g)
	}
}
