package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
)

// A server that answers the preface with HTTP is not a wire server.
func TestProbeTellsAnHTTPServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.NotFoundHandler()}
	go hs.Serve(ln)
	defer hs.Close()
	tr := NewTransport(ln.Addr().String(), TransportOptions{Codec: strCodec{}})
	defer tr.Close()
	err = tr.Probe(ctxT(t))
	if !errors.Is(err, ErrNotWire) || connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Fatalf("probe of an HTTP server: %v", err)
	}
	tr2 := NewTransport("127.0.0.1:1", TransportOptions{Codec: strCodec{}})
	defer tr2.Close()
	if err := tr2.Probe(ctxT(t)); connect.CodeOf(err) != connect.CodeUnavailable || errors.Is(err, ErrNotWire) {
		t.Fatalf("probe of a closed port: %v", err)
	}
}

// rawConn connects to ts and exchanges prefaces.
func rawConn(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, Preface); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(Preface))
	if _, err := io.ReadFull(nc, got); err != nil || string(got) != Preface {
		t.Fatalf("server preface %q, %v", got, err)
	}
	return nc
}

// readGoAway reads frames until a go-away and returns its message; the
// connection must then end.
func readGoAway(t *testing.T, nc net.Conn) string {
	t.Helper()
	hdr := make([]byte, headerLen)
	for {
		h, err := readFrameHeader(nc, hdr)
		if err != nil {
			t.Fatalf("connection ended without a go-away: %v", err)
		}
		p := make([]byte, h.length)
		if _, err := io.ReadFull(nc, p); err != nil {
			t.Fatal(err)
		}
		if h.typ != frameGoAway {
			continue
		}
		g, err := parseGoAway(p)
		if err != nil {
			t.Fatal(err)
		}
		// The server closes; with our flood unread, TCP may reset.
		if _, err := nc.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("after the go-away: %v, want the connection closed", err)
		}
		return g.message
	}
}

func TestProtocolErrorsEndOnlyTheirConnection(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	cases := map[string][]byte{
		"unexpected frame type 99":       appendFrame(nil, 99, 1, 0),
		"unexpected end frame":           appendPayload(nil, frameEnd, 1, (&endFrame{}).append),
		"frame on stream 0":              appendFrame(nil, frameOpen, 0, 0),
		"over the limit of 65536":        appendFrame(nil, frameOpen, 1, MaxControlBytes+1),
		"open of stream 1":               appendPayload(nil, frameOpen, 1, func(b []byte) []byte { return append(b, 0xff) }),
		"window of stream 1":             appendPayload(nil, frameWindow, 1, func(b []byte) []byte { return appendWindow(b, 0) }),
		"window beyond what was sent":    appendPayload(nil, frameWindow, 0, func(b []byte) []byte { return appendWindow(b, 1<<30) }),
		"ids only grow":                  append(open(2, specEcho), open(1, specEcho)...),
		"message beyond the stream's cr": flood(1),
	}
	for want, frames := range cases {
		nc := rawConn(t, ts)
		go nc.Write(frames)
		if got := readGoAway(t, nc); !strings.Contains(got, want) {
			t.Errorf("go-away %q, want it to say %q", got, want)
		}
		req, res := "still", ""
		if err := cc.CallUnary(ctxT(t), specUnary, &req, &res); err != nil {
			t.Fatalf("another connection after %q: %v", want, err)
		}
	}
}

func open(id uint32, spec connect.Spec) []byte {
	o := openFrame{procedure: spec.Procedure}
	return appendPayload(nil, frameOpen, id, o.append)
}

// flood opens a stream whose handler reads nothing and sends it more
// than its credit.
func flood(id uint32) []byte {
	b := open(id, specBlock)
	msg := make([]byte, 1<<20)
	for range streamWindow/len(msg) + 1 {
		b = appendFrame(b, frameMsg, id, len(msg))
		b = append(b, msg...)
	}
	return b
}

// A connection that ends fails the streams on it with unavailable; the
// next call dials a new one.
func TestLostConnectionIsRedialed(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	st, err := cc.CallClientStream(ctxT(t), specEcho)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msg, got := "a", ""
	if err := st.Send(&msg); err != nil || st.Receive(&got) != nil {
		t.Fatal("echo before the loss")
	}
	ts.mu.Lock()
	for c := range ts.conns {
		c.nc.Close()
	}
	ts.mu.Unlock()
	if err := st.Receive(&got); connect.CodeOf(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("stream on a lost connection: %v", err)
	}
	req, res := "again", ""
	if err := cc.CallUnary(ctxT(t), specUnary, &req, &res); err != nil || res != "hello again from " {
		t.Fatalf("call after the loss: %q %v", res, err)
	}
}

// Shutdown refuses new streams, lets the calls in progress finish, then
// closes the connections.
func TestShutdownWaitsForCallsInProgress(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	blocked := make(chan error, 1)
	go func() {
		req, res := "x", ""
		blocked <- cc.CallUnary(ctx, specBlock, &req, &res)
	}()
	<-ts.started
	down := make(chan error, 1)
	go func() { down <- ts.Shutdown(ctxT(t)) }()
	for !ts.isClosing() {
		runtime.Gosched()
	}
	// A new stream on the going-away connection is refused, or dials a
	// connection that the closing server drops: unavailable either way.
	req, res := "late", ""
	if err := cc.CallUnary(ctxT(t), specUnary, &req, &res); connect.CodeOf(err) != connect.CodeUnavailable {
		t.Fatalf("call during shutdown: %v", err)
	}
	select {
	case err := <-down:
		t.Fatalf("shutdown returned (%v) with a call in progress", err)
	default:
	}
	cancel()
	<-blocked
	<-ts.blocked
	if err := <-down; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Messages a handler never reads, or that arrive after their stream is
// over, are credited back to the connection: calls that leave their
// request unread do not use the connection's credit up.
func TestUnreadMessagesAreCreditedBack(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	big, res := strings.Repeat("u", streamWindow), ""
	for i := range serverConnWindow/len(big) + 4 {
		if err := cc.CallUnary(ctxT(t), specFail, &big, &res); connect.CodeOf(err) != connect.CodeNotFound {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

// A client that sends more than the connection's credit, over streams
// that each stay within their own, breaks the protocol.
func TestConnectionCreditIsEnforced(t *testing.T) {
	ts := startServer(t, 0)
	nc := rawConn(t, ts)
	msg := make([]byte, 1<<20)
	var b []byte
	for id := uint32(1); id <= serverConnWindow/streamWindow+1; id++ {
		b = append(b, open(id, specBlock)...)
		for range streamWindow / len(msg) {
			b = appendFrame(b, frameMsg, id, len(msg))
			b = append(b, msg...)
		}
	}
	go nc.Write(b)
	if got := readGoAway(t, nc); !strings.Contains(got, "beyond the connection's credit") {
		t.Fatalf("go-away %q", got)
	}
}
