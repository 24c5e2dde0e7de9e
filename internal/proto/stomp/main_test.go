package stomp

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/servertest"
	"github.com/courier-mq/courier/server"
	"github.com/go-stomp/stomp/v3"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEnv is an in-process Courier server with a STOMP listener.
type testEnv struct {
	srv  *server.Server
	st   *Server
	addr string
}

func startEnv(t *testing.T, o Options) *testEnv {
	t.Helper()
	srv := servertest.Start(t, t.TempDir())
	st := New(srv.Broker, o)
	addr, _ := servertest.Serve(t, srv, st, ErrServerClosed)
	return &testEnv{srv: srv, st: st, addr: addr}
}

// dial connects a go-stomp client, disconnected at cleanup.
func (e *testEnv) dial(t *testing.T, opts ...func(*stomp.Conn) error) *stomp.Conn {
	t.Helper()
	c, err := stomp.Dial("tcp", e.addr, opts...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.MustDisconnect() })
	return c
}

// barrier returns once the server has handled every frame c sent
// before it (a SEND with a receipt answers after them).
func barrier(t *testing.T, c *stomp.Conn) {
	t.Helper()
	if err := c.Send("/topic/barrier", "", nil, stomp.SendOpt.Receipt); err != nil {
		t.Fatalf("barrier: %v", err)
	}
}

// recv returns the next message of sub, failing after 5 s.
func recv(t *testing.T, sub *stomp.Subscription) *stomp.Message {
	t.Helper()
	select {
	case m, ok := <-sub.C:
		if !ok {
			t.Fatal("subscription closed")
		}
		if m.Err != nil {
			t.Fatalf("subscription error: %v", m.Err)
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
	}
	return nil
}

// noMessage checks that sub holds no message after the server handled
// every frame of c (its barrier) and a short grace.
func noMessage(t *testing.T, sub *stomp.Subscription) {
	t.Helper()
	select {
	case m := <-sub.C:
		t.Fatalf("unexpected message %q on %s", m.Body, m.Destination)
	case <-time.After(100 * time.Millisecond):
	}
}

// rawConn is a client on a bare socket, for malformed input.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *frameReader
}

func (e *testEnv) raw(t *testing.T) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, r: newFrameReader(bufio.NewReader(nc), limits{line: 1 << 20, headers: 1000, headerBytes: 1 << 20, body: 8 << 20})}
}

// rawConnect connects a raw client with STOMP 1.2.
func (e *testEnv) rawConnect(t *testing.T) *rawConn {
	t.Helper()
	rc := e.raw(t)
	rc.send("CONNECT\naccept-version:1.2\nhost:x\n\n\x00")
	if f := rc.read(); f.Command != cmdConnected {
		t.Fatalf("got %s %v, want CONNECTED", f.Command, f.Headers)
	}
	rc.r.esc = esc12
	return rc
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.nc, s); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

func (rc *rawConn) read() *Frame {
	rc.t.Helper()
	f, err := rc.r.ReadFrame()
	if err != nil {
		rc.t.Fatalf("read: %v", err)
	}
	return f
}

// expectError reads an ERROR whose message contains want, then the end
// of the connection.
func (rc *rawConn) expectError(want string) *Frame {
	rc.t.Helper()
	f := rc.read()
	if f.Command != cmdError || !strings.Contains(f.Value(hdrMessage), want) {
		rc.t.Fatalf("got %s %v %q, want ERROR with %q", f.Command, f.Headers, f.Body, want)
	}
	rc.expectEOF()
	return f
}

func (rc *rawConn) expectEOF() {
	rc.t.Helper()
	if _, err := rc.r.ReadFrame(); err != io.EOF {
		rc.t.Fatalf("read after ERROR: %v, want EOF", err)
	}
}

// waitConns polls Conns until it is n (connections end asynchronously).
func waitConns(t *testing.T, s *Server, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Conns() != n {
		if time.Now().After(deadline) {
			t.Fatalf("Conns() = %d, want %d", s.Conns(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
