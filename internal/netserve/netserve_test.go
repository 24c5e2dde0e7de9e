package netserve

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errClosed = errors.New("test: closed")

// echoConn is a tracked connection that echoes until drained or aborted;
// it records how it ended.
type echoConn struct {
	nc    net.Conn
	set   *Set[*echoConn]
	mu    sync.Mutex
	ended string
}

func (c *echoConn) Drain() { c.end("drained") }
func (c *echoConn) Abort() { c.end("aborted") }

func (c *echoConn) end(how string) {
	c.mu.Lock()
	if c.ended == "" {
		c.ended = how
	}
	c.mu.Unlock()
	c.nc.Close()
}

func (c *echoConn) how() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

func (c *echoConn) serve() {
	defer c.set.Remove(c)
	buf := make([]byte, 64)
	for {
		n, err := c.nc.Read(buf)
		if err != nil {
			return
		}
		c.nc.Write(buf[:n])
	}
}

// serveEcho serves s on a loopback listener; conns receives each
// connection accepted.
func serveEcho(t *testing.T, s *Set[*echoConn]) (addr string, conns chan *echoConn, served chan error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns, served = make(chan *echoConn, 8), make(chan error, 1)
	go func() {
		served <- s.Serve(ln, func(nc net.Conn) {
			c := &echoConn{nc: nc, set: s}
			if !s.Add(c, c.serve) {
				nc.Close()
				return
			}
			conns <- c
		})
	}()
	return ln.Addr().String(), conns, served
}

func dialEcho(t *testing.T, addr string) net.Conn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := nc.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := nc.Read(buf); err != nil || string(buf) != "hi" {
		t.Fatalf("echo: %q %v", buf, err)
	}
	return nc
}

// Connections are counted while open; Shutdown drains them, Serve then
// returns the closed error, and nothing more is accepted or started.
func TestShutdownDrains(t *testing.T) {
	s := New[*echoConn]("test", errClosed)
	addr, conns, served := serveEcho(t, s)
	dialEcho(t, addr)
	dialEcho(t, addr)
	c1, c2 := <-conns, <-conns
	if n := s.Len(); n != 2 {
		t.Fatalf("Len %d, want 2", n)
	}
	if err := s.Shutdown(context.Background(), func() { t.Error("closeAll called") }); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, errClosed) {
		t.Fatalf("Serve returned %v", err)
	}
	if c1.how() != "drained" || c2.how() != "drained" || s.Len() != 0 {
		t.Fatalf("connections %q %q, %d left", c1.how(), c2.how(), s.Len())
	}
	if s.Go(func() {}) || s.Add(&echoConn{}, func() {}) {
		t.Fatal("started after Stop")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := s.Serve(ln, nil); !errors.Is(err, errClosed) {
		t.Fatalf("Serve after Stop: %v", err)
	}
}

// stuckConn ignores Drain; only Abort ends it.
type stuckConn struct{ stop chan struct{} }

func (c *stuckConn) Drain() {}
func (c *stuckConn) Abort() { close(c.stop) }

// When ctx ends before the connections drain, Shutdown calls closeAll,
// waits for it to end them, and returns ctx's error.
func TestShutdownDeadlineClosesAll(t *testing.T) {
	s := New[*stuckConn]("test", errClosed)
	c := &stuckConn{stop: make(chan struct{})}
	if !s.Add(c, func() { <-c.stop }) {
		t.Fatal("Add refused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	closed := false
	err := s.Shutdown(ctx, func() { closed = true; s.Stop(true) })
	if !errors.Is(err, context.DeadlineExceeded) || !closed {
		t.Fatalf("Shutdown: %v (closeAll called: %v)", err, closed)
	}
}

// flakyListener fails Accept with a temporary error a few times first.
type flakyListener struct {
	net.Listener
	fails int
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "accept: too many open files" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, timeoutErr{}
	}
	return l.Listener.Accept()
}

// A temporary Accept error does not stop serving; any other one ends
// Serve with it.
func TestServeRetriesTemporaryErrors(t *testing.T) {
	s := New[*echoConn]("test", errClosed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns, served := make(chan *echoConn, 1), make(chan error, 1)
	go func() {
		served <- s.Serve(&flakyListener{Listener: ln, fails: 3}, func(nc net.Conn) {
			c := &echoConn{nc: nc, set: s}
			s.Add(c, c.serve)
			conns <- c
		})
	}()
	dialEcho(t, ln.Addr().String())
	<-conns
	ln.Close() // not through Stop: a permanent error
	if err := <-served; err == nil || errors.Is(err, errClosed) {
		t.Fatalf("Serve after its listener closed: %v", err)
	}
	s.Stop(true)
	s.Wait()
}
