package wire

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect/v2"
)

// Both sides of a bidi stream may send more than a window before
// reading: a Receive never waits for a Send that waits for credit.
func TestSendAndReceiveBeyondTheWindowAtOnce(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	st, err := cc.CallClientStream(ctxT(t), specEcho)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 3 * streamWindow / (1 << 20)
	msg := strings.Repeat("b", 1<<20)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range n {
			if err := st.Send(&msg); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for i := range n {
		var got string
		if err := st.Receive(&got); err != nil || len(got) != len(msg) {
			t.Fatalf("message %d: %d bytes, %v", i, len(got), err)
		}
	}
	wg.Wait()
}

// Streams the client's application leaves unread do not stall the
// others on the connection.
func TestUnreadStreamsDoNotStallTheConnection(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	ctx := ctxT(t)
	for range 12 { // 12 × 4 MiB unread: more than a server's window
		req := "go"
		st, err := cc.CallServerStream(ctx, specFlood, &req)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var first string
		if err := st.Receive(&first); err != nil {
			t.Fatal(err)
		}
	}
	req, res := "beside", ""
	if err := cc.CallUnary(ctx, specUnary, &req, &res); err != nil {
		t.Fatalf("a call beside unread streams: %v", err)
	}
}

// An error too large for a frame is cut, and the connection carries on.
func TestLargeErrorIsCut(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	req, res := "x", ""
	err := cc.CallUnary(ctxT(t), specBig, &req, &res)
	if connect.CodeOf(err) != connect.CodeInternal || len(err.Error()) > maxEndMessage+100 || !strings.HasSuffix(err.Error(), "…") {
		t.Fatalf("large error: code %v, %d bytes", connect.CodeOf(err), len(err.Error()))
	}
	if err := cc.CallUnary(ctxT(t), specUnary, &req, &res); err != nil {
		t.Fatalf("after a large error: %v", err)
	}
}

// Connect's contracts: a unary call answered with no message fails
// with unimplemented; once the server ended a stream, Send returns
// io.EOF and CloseSend nil, and Receive gives the outcome.
func TestStreamEndsAsConnectSays(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	req, res := "x", ""
	if err := cc.CallUnary(ctxT(t), specEmpty, &req, &res); connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Fatalf("unary with no response: %v", err)
	}
	st, err := cc.CallClientStream(ctxT(t), specSink)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msg := "one"
	if err := st.Send(&msg); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := st.Receive(&got); !errors.Is(err, io.EOF) {
		t.Fatalf("end of the stream: %v", err)
	}
	if err := st.Send(&msg); !errors.Is(err, io.EOF) {
		t.Fatalf("Send after the server ended: %v, want io.EOF", err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatalf("CloseSend after the server ended: %v", err)
	}
}

// Empty messages spend credit too (their frame header), so a flood of
// them breaks the stream's window.
func TestEmptyMessagesSpendCredit(t *testing.T) {
	flow := newConnFlow(1<<40, 1<<40, func(int) {})
	q := newInbox(flow)
	for i := range (streamWindow + headerLen - 1) / headerLen { // while below the window
		if !q.push(nil) {
			t.Fatalf("empty message %d broke a window it was within", i)
		}
	}
	if q.push(nil) {
		t.Fatal("an empty message beyond the window went through")
	}
}

// readMsg reads small, middling and large messages whole, and fails on
// a message cut short.
func TestReadMsg(t *testing.T) {
	for _, n := range []int{0, 10, msgPoolBytes, msgPoolBytes + 1, readStartBytes, readStartBytes + 1, 3 * readStartBytes} {
		src := strings.Repeat("m", n)
		p, err := readMsg(strings.NewReader(src+"next"), n)
		if err != nil || string(p) != src {
			t.Fatalf("%d bytes: got %d, %v", n, len(p), err)
		}
		if n > 0 {
			if _, err := readMsg(strings.NewReader(src[:n-1]), n); err == nil {
				t.Fatalf("%d bytes cut short: no error", n)
			}
		}
	}
}

// Pooled message buffers come back at the size asked for, whatever the
// pool held before.
func TestMsgBufSizes(t *testing.T) {
	for _, n := range []int{1, msgPoolBytes, msgPoolBytes + 1, 1 << 20, 1<<20 + 1, maxPooledBytes, maxPooledBytes + 1} {
		for range 2 { // the second time from the pool
			b := getMsgBuf(n)
			if len(b) != n {
				t.Fatalf("getMsgBuf(%d) has %d bytes", n, len(b))
			}
			putMsgBuf(b)
		}
	}
}

// A buffer taken from the pool and given back costs no allocation, small
// or large.
func TestMsgBufReuseAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers")
	}
	for _, n := range []int{100, msgPoolBytes, 1 << 20} {
		putMsgBuf(getMsgBuf(n))
		if a := testing.AllocsPerRun(100, func() { putMsgBuf(getMsgBuf(n)) }); a != 0 {
			t.Errorf("%d bytes: %.1f allocations per reuse", n, a)
		}
	}
}

// Streams are numbered as they open, not as they are made: one made
// first and opened second is still in order for the server.
func TestStreamsOpenInAnyOrder(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	first, err := cc.CallClientStream(ctxT(t), specEcho)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := cc.CallClientStream(ctxT(t), specEcho)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	for _, st := range []connect.ClientStream{second, first} {
		msg, got := "hello", ""
		if err := st.Send(&msg); err != nil {
			t.Fatal(err)
		}
		if err := st.Receive(&got); err != nil || got != msg {
			t.Fatalf("echo %q, %v", got, err)
		}
	}
}
