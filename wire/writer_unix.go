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

// writeNow writes what the socket takes of b at once.
func (w *writer) writeNow(b []byte) (int, error) {
	var n int
	var werr error
	err := w.raw.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, err := syscall.Write(int(fd), b[n:])
			if m > 0 {
				n += m
			}
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				if !errors.Is(err, syscall.EAGAIN) {
					werr = err
				}
				break
			}
		}
		return true // never wait for the socket
	})
	if werr == nil {
		werr = err
	}
	return n, werr
}
