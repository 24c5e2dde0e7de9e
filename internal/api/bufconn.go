package api

import (
	"bufio"
	"net"
)

// The HTTP/2 server reads each frame with two reads straight from the
// connection (its 9-byte header, then its payload), so a small request
// costs four or more read system calls. Connections are read through a
// buffer instead: one read system call takes whatever has arrived.

// readBufferBytes is each connection's read buffer.
const readBufferBytes = 16 << 10

// bufferedConn reads through r; it is read by one goroutine at a time,
// as a server connection is.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite half-closes a TCP connection (the HTTP/1 server uses it
// when it closes a connection gracefully).
func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
