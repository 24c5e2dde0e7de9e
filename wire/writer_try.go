package wire

// Writing without waiting. A goroutine that must not wait on a peer (a
// connection's reader handling a message inline, which answers another
// connection's request) sends with tryWrite: its frames join what is
// pending, and if nobody is writing it writes them itself with one
// non-blocking system call; what the socket does not take at once is
// written by a goroutine of its own, as later does. So it never waits
// on the socket, and an idle connection still costs one write.

// tryWrite appends frames with build and writes them without waiting; it
// declines (false, nothing appended) when it cannot: the connection has
// no raw connection, or too much is pending.
func (w *writer) tryWrite(build func([]byte) []byte) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return true, w.err
	}
	if w.raw == nil || len(w.buf) >= maxPendingBytes {
		return false, nil
	}
	w.buf = build(w.buf)
	if w.busy {
		return true, nil // the write under way takes it
	}
	w.busy = true
	b := w.buf
	w.buf, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	n, err := w.writeNow(b)
	w.mu.Lock()
	if err != nil {
		w.err = err
		w.busy = false
		w.broadcast()
		return true, err
	}
	if n < len(b) || len(w.buf) > 0 {
		// The socket is full, or more came meanwhile: a goroutine
		// writes the rest, and stays the writer until all is out.
		w.buf = append(b[n:len(b):len(b)], w.buf...)
		go func() {
			w.mu.Lock()
			w.flushLocked()
			w.mu.Unlock()
		}()
		return true, nil
	}
	if cap(b) <= keepBytes {
		w.spare = b[:0]
	}
	w.busy = false
	w.broadcast()
	return true, nil
}

// broadcast wakes the callers waiting for the write under way.
// Caller holds mu.
func (w *writer) broadcast() {
	if w.drained != nil {
		w.drained.Broadcast()
	}
}
