//go:build unix

package wire

import (
	"errors"
	"net"
	"syscall"
)

// syscallConn returns nc's raw connection for non-blocking writes, or nil
// when it has none (then tryWrite always declines).
func syscallConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeNow writes what the socket takes of b at once. Only the
// goroutine that is the writer (busy) calls it, so the call's state can
// live in w, and the function given to the raw connection is made once.
func (w *writer) writeNow(b []byte) (int, error) {
	if w.nowFn == nil {
		w.nowFn = w.writeFd
	}
	w.now, w.nowN, w.nowErr = b, 0, nil
	err := w.raw.Write(w.nowFn)
	n, werr := w.nowN, w.nowErr
	w.now, w.nowErr = nil, nil
	if werr == nil {
		werr = err
	}
	return n, werr
}

// writeFd writes w.now to fd until the socket would block; it never
// waits for the socket (true: done).
func (w *writer) writeFd(fd uintptr) bool {
	for w.nowN < len(w.now) {
		m, err := syscall.Write(int(fd), w.now[w.nowN:])
		if m > 0 {
			w.nowN += m
		}
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			if !errors.Is(err, syscall.EAGAIN) {
				w.nowErr = err
			}
			break
		}
	}
	return true
}
