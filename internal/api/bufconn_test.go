package api

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// TestBufferedConnReadsAndHalfCloses: a connection that does not start
// with wire's preface goes to Accept; small reads through the buffer
// return the bytes in order, a read larger than the buffer too, and
// CloseWrite reaches the TCP connection (the peer reads EOF).
func TestBufferedConnReadsAndHalfCloses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	sl := newSniffListener(ln, nil)
	defer sl.wg.Wait()
	defer sl.Close()
	want := bytes.Repeat([]byte("0123456789"), 5000) // larger than the buffer
	go func() { peer.Write(want) }()
	c, err := sl.Accept() // not wire's preface: an HTTP connection
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got[:9]); err != nil { // a frame header
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, got[9:]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes read through the buffer differ from those written")
	}
	if err := c.(*bufferedConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n, err := peer.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("peer read after CloseWrite: %d, %v; want EOF", n, err)
	}
}
