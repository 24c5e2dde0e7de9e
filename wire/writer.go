package wire

import (
	"net"
	"sync"
	"syscall"
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
	nc  net.Conn
	raw syscall.RawConn // nc's, for tryWrite; nil: it has none

	mu      sync.Mutex
	buf     []byte // pending
	spare   []byte // the last written buffer, reused
	busy    bool   // a caller is writing
	err     error  // the first write failure; every later call returns it
	drained *sync.Cond

	// writeNow's call, kept by the writer (writer_unix.go).
	now    []byte
	nowN   int
	nowErr error
	nowFn  func(fd uintptr) bool
}

// keepBytes is the largest buffer kept for reuse after a write, and
// maxPendingBytes the pending bytes past which a message waits for the
// write under way (a peer that stops reading stops its senders, and the
// pending bytes stay bounded). Control frames never wait: a connection's
// reader sends them, and it must not wait on the peer.
const (
	keepBytes       = 1 << 20
	maxPendingBytes = 8 << 20
)

// write appends frames with build and sends them; data marks messages,
// which wait while too much is pending.
func (w *writer) write(build func([]byte) []byte, data bool) error {
	return w.send(build, nil, data)
}

// writeMsg sends frames that build appends followed by payload (a
// message's bytes). With nothing pending and no write under way, the
// payload goes from where it is (one writev), not copied first.
func (w *writer) writeMsg(build func([]byte) []byte, payload []byte) error {
	return w.send(build, payload, true)
}

func (w *writer) send(build func([]byte) []byte, payload []byte, data bool) error {
	w.mu.Lock()
	for data && w.busy && len(w.buf) >= maxPendingBytes && w.err == nil {
		if w.drained == nil {
			w.drained = sync.NewCond(&w.mu)
		}
		w.drained.Wait()
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	direct := !w.busy && len(w.buf) == 0 && len(payload) >= directBytes
	w.buf = build(w.buf)
	if !direct {
		w.buf = append(w.buf, payload...)
	}
	if w.busy {
		w.mu.Unlock()
		return nil
	}
	w.busy = true
	if direct {
		head := w.buf
		w.buf, w.spare = w.spare[:0], nil
		w.mu.Unlock()
		bufs := net.Buffers{head, payload}
		_, err := bufs.WriteTo(w.nc)
		w.mu.Lock()
		if err != nil {
			w.err = err
		}
		if cap(head) <= keepBytes {
			w.spare = head[:0]
		}
	}
	w.flushLocked()
	err := w.err
	w.mu.Unlock()
	return err
}

// flushLocked writes what is pending until nothing is, then ends the
// write under way. Caller holds mu and set busy.
func (w *writer) flushLocked() {
	for len(w.buf) > 0 && w.err == nil {
		b := w.buf
		w.buf, w.spare = w.spare[:0], nil
		w.broadcast()
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
	w.broadcast()
}

// idle waits until no write is under way (or writing failed).
func (w *writer) idle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.busy && w.err == nil {
		if w.drained == nil {
			w.drained = sync.NewCond(&w.mu)
		}
		w.drained.Wait()
	}
}

// later queues a control frame and returns without writing: with no
// write under way, a goroutine writes it. A connection's reader sends
// its frames so (window credit, cancel, refusals): a reader that waited
// on a write to a peer whose own reader waits on a write to it would
// stop both.
func (w *writer) later(t frameType, stream uint32, put func([]byte) []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	w.buf = appendPayload(w.buf, t, stream, put)
	if w.busy {
		return
	}
	w.busy = true
	go func() {
		w.mu.Lock()
		w.flushLocked()
		w.mu.Unlock()
	}()
}

// directBytes is the smallest payload writeMsg sends without copying:
// below it, a copy costs less than a second buffer in the write.
const directBytes = 16 << 10

// control sends one frame whose payload put appends.
func (w *writer) control(t frameType, stream uint32, put func([]byte) []byte) error {
	return w.write(func(b []byte) []byte { return appendPayload(b, t, stream, put) }, false)
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
