package wire

import (
	"net"
	"sync"
)

// writer writes frames to a connection from many goroutines without a
// goroutine of its own: a caller appends its frames to the pending bytes
// and, when nobody is writing, writes them itself, along with whatever
// other callers append meanwhile. A caller that finds a write under way
// leaves its frames to that writer and returns. So an idle connection
// costs one write system call per frame and a busy one batches.
//
// Pending bytes are bounded by the streams' credit (messages) and by
// the control frames, which are small.
type writer struct {
	nc net.Conn

	mu    sync.Mutex
	buf   []byte // pending
	spare []byte // the last written buffer, reused
	busy  bool   // a caller is writing
	err   error  // the first write failure; every later call returns it
}

// keepBytes is the largest buffer kept for reuse after a write.
const keepBytes = 1 << 20

// write appends frames with build and sends them.
func (w *writer) write(build func([]byte) []byte) error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	w.buf = build(w.buf)
	if w.busy {
		w.mu.Unlock()
		return nil
	}
	w.busy = true
	for len(w.buf) > 0 && w.err == nil {
		b := w.buf
		w.buf, w.spare = w.spare[:0], nil
		w.mu.Unlock()
		_, err := w.nc.Write(b)
		w.mu.Lock()
		if err != nil {
			w.err = err
		}
		if cap(b) <= keepBytes {
			w.spare = b[:0]
		}
	}
	w.busy = false
	err := w.err
	w.mu.Unlock()
	return err
}

// frame sends one frame whose payload is p.
func (w *writer) frame(t frameType, stream uint32, p []byte) error {
	return w.write(func(b []byte) []byte {
		return append(appendFrame(b, t, stream, len(p)), p...)
	})
}

// control sends one frame whose payload put appends.
func (w *writer) control(t frameType, stream uint32, put func([]byte) []byte) error {
	return w.write(func(b []byte) []byte { return appendPayload(b, t, stream, put) })
}

// appendPayload appends a frame whose payload put appends, filling in
// its length afterwards.
func appendPayload(b []byte, t frameType, stream uint32, put func([]byte) []byte) []byte {
	at := len(b)
	b = appendFrame(b, t, stream, 0)
	if put != nil {
		b = put(b)
	}
	n := len(b) - at - headerLen
	b[at], b[at+1], b[at+2], b[at+3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return b
}
