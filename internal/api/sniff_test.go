package api

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/courier-mq/courier/wire"
)

// A wire preface that arrives in pieces is still wire (over a pipe,
// each write is one read on the other side).
func TestSniffPrefaceInPieces(t *testing.T) {
	e := startEnv(t, Options{})
	l := &sniffListener{s: e.api, conns: make(chan net.Conn), done: make(chan struct{}),
		closed: make(chan struct{}), sniffing: map[net.Conn]struct{}{}}
	client, server := net.Pipe()
	l.wg.Go(func() { l.sniff(server) })
	defer l.wg.Wait() // after the close below: the wire server serves until then
	defer client.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	for i := range len(wire.Preface) {
		if _, err := client.Write([]byte{wire.Preface[i]}); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]byte, len(wire.Preface))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != wire.Preface {
		t.Fatalf("answer %q, %v; want the wire preface", got, err)
	}
}

// flakyListener fails its first Accept with a temporary error (out of
// file descriptors).
type flakyListener struct {
	net.Listener
	failed atomic.Bool
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if !l.failed.Swap(true) {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// A temporary Accept error does not stop the listener.
func TestSniffListenerOutlivesATemporaryAcceptError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := newSniffListener(&flakyListener{Listener: ln}, nil)
	defer sl.wg.Wait()
	defer sl.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go peer.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	c, err := sl.Accept()
	if err != nil {
		t.Fatalf("Accept after a temporary error: %v", err)
	}
	c.Close()
	sl.Close()
	if _, err := sl.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
}
