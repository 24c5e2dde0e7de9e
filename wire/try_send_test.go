package wire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"connectrpc.com/connect/v2"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// tryWrite never waits on a peer that does not read: what the socket
// does not take is written by a goroutine, and once too much is pending
// it declines. Everything it took arrives, in order.
func TestTryWriteNeverWaits(t *testing.T) {
	a, b := tcpPair(t)
	w := &writer{nc: a, raw: syscallConn(a)}
	if w.raw == nil {
		t.Skip("no raw connection on this system")
	}
	var want bytes.Buffer
	for i := 0; ; i++ {
		chunk := bytes.Repeat([]byte{byte(i)}, 64<<10)
		ok, err := w.tryWrite(func(p []byte) []byte { return append(p, chunk...) })
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		want.Write(chunk)
		if i == 2000 {
			t.Fatal("tryWrite took 128 MiB for a peer that reads nothing")
		}
	}
	if want.Len() < maxPendingBytes {
		t.Fatalf("declined after %d bytes", want.Len())
	}
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(b, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("the bytes arrived changed or out of order")
	}
	w.idle()
	if ok, err := w.tryWrite(func(p []byte) []byte { return append(p, 'z') }); !ok || err != nil {
		t.Fatalf("idle writer: %v %v", ok, err)
	}
}

var specTry = connect.Spec{Procedure: "/t.S/Try", StreamType: connect.StreamTypeServer}

// A handler's TrySend sends while the client has credit and declines
// once it has none (the client is not reading), without waiting; Send
// then delivers the declined message after the others.
func TestTrySendDeclinesWithoutCredit(t *testing.T) {
	ts := startServer(t, 0)
	declined := make(chan int, 1)
	ts.rpc.Register(connect.Method{Spec: specTry, Handler: func(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
		var s string
		if err := st.Receive(&s); err != nil {
			return err
		}
		try := TrySender(ctx)
		if try == nil {
			return errors.New("no TrySender")
		}
		big := strings.Repeat("x", 64<<10)
		for i := 0; ; i++ {
			msg := strconv.Itoa(i) + big
			sent, err := try(&msg)
			if err != nil {
				return err
			}
			if !sent {
				declined <- i
				return st.Send(&msg)
			}
			if i == 1000 {
				return errors.New("TrySend never declined")
			}
		}
	}})
	cc, _ := ts.client(t, TransportOptions{})
	req := "go"
	st, err := cc.CallServerStream(ctxT(t), specTry, &req)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := <-declined
	if n*(64<<10) < streamWindow/2 {
		t.Fatalf("declined after %d messages, within the window", n)
	}
	for i := 0; i <= n; i++ {
		var got string
		if err := st.Receive(&got); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !strings.HasPrefix(got, strconv.Itoa(i)+"x") {
			t.Fatalf("message %d is %.10q", i, got)
		}
	}
	var s string
	if err := st.Receive(&s); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last: %v", err)
	}
}
