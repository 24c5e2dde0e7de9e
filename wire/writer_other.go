//go:build !unix

package wire

import (
	"errors"
	"net"
	"syscall"
)

// syscallConn gives no raw connection here: tryWrite always declines.
func syscallConn(net.Conn) syscall.RawConn { return nil }

// writeNow is never called: tryWrite declines first.
func (w *writer) writeNow([]byte) (int, error) {
	return 0, errors.New("wire: no non-blocking write on this system")
}
