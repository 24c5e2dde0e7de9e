package api

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/courier-mq/courier/wire"
)

// One port serves HTTP (Connect, gRPC, JSON, the admin routes) and the
// wire transport (package wire), which the Go client prefers. A
// connection's first byte tells them apart: wire's preface starts with
// a zero byte, which no HTTP request does. Each accepted connection is
// read in a goroutine of its own until that byte arrives (at most
// sniffTimeout), so a slow client holds up no other.

// sniffTimeout bounds the wait for a new connection's first bytes.
const sniffTimeout = 10 * time.Second

// sniffListener hands HTTP connections to net/http (through Accept) and
// serves wire connections itself.
type sniffListener struct {
	net.Listener
	s     *Server
	conns chan net.Conn // HTTP connections for Accept
	done  chan struct{} // the accept loop ended
	err   error         // why, set before done closes

	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup // sniffing and wire connections

	mu       sync.Mutex
	sniffing map[net.Conn]struct{} // closed by Close
	isClosed bool
}

// errBadPreface is a connection that started like wire's preface and
// went on otherwise.
var errBadPreface = errors.New("bad wire preface")

func newSniffListener(ln net.Listener, s *Server) *sniffListener {
	l := &sniffListener{Listener: ln, s: s, conns: make(chan net.Conn), done: make(chan struct{}),
		closed: make(chan struct{}), sniffing: map[net.Conn]struct{}{}}
	go l.acceptLoop()
	return l
}

func (l *sniffListener) acceptLoop() {
	defer close(l.done)
	var backoff time.Duration
	for {
		nc, err := l.Listener.Accept()
		if err != nil && !errors.Is(err, net.ErrClosed) && l.track(nil, false) {
			// Out of file descriptors, say: wait and try again, as
			// net/http does, rather than stop serving.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
				continue
			case <-l.closed:
			}
		}
		if err != nil {
			l.err = err
			return
		}
		backoff = 0
		l.wg.Go(func() { l.sniff(nc) })
	}
}

// Accept returns the next HTTP connection.
func (l *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

// Close stops accepting; connections being sniffed are closed.
func (l *sniffListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.closed) })
	l.mu.Lock()
	l.isClosed = true
	for nc := range l.sniffing {
		nc.Close()
	}
	l.mu.Unlock()
	return err
}

// sniff reads a connection's first byte and passes the connection on.
func (l *sniffListener) sniff(nc net.Conn) {
	c := &bufferedConn{Conn: nc, r: bufio.NewReaderSize(nc, readBufferBytes)}
	if !l.track(nc, true) {
		nc.Close()
		return
	}
	nc.SetReadDeadline(time.Now().Add(sniffTimeout))
	first, err := c.r.Peek(1)
	isWire := err == nil && first[0] == wire.Preface[0] // first is gone once the buffer reads on
	if isWire {
		got := make([]byte, len(wire.Preface))
		if _, err = io.ReadFull(c.r, got); err == nil && string(got) != wire.Preface {
			err = errBadPreface
		}
	}
	if !l.track(nc, false) || err != nil {
		nc.Close()
		return
	}
	nc.SetReadDeadline(time.Time{})
	if !isWire {
		select {
		case l.conns <- c:
		case <-l.closed:
			nc.Close()
		}
		return
	}
	l.s.conns.Add(1)
	defer l.s.conns.Add(-1)
	l.s.wire.ServeConn(nc, c.r) // nc itself, for wire's non-blocking writes; reads go through c.r
}

// track adds nc to the connections being sniffed, or removes it (nil:
// neither); false means the listener is closed.
func (l *sniffListener) track(nc net.Conn, add bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if nc == nil {
		return !l.isClosed
	}
	if add && !l.isClosed {
		l.sniffing[nc] = struct{}{}
	} else {
		delete(l.sniffing, nc)
	}
	return !l.isClosed
}
