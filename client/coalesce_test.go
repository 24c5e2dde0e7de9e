package client

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestCoalescingBodyJoinsWrites(t *testing.T) {
	pr, pw := io.Pipe()
	b := newCoalescingBody(pr)
	for i := range 100 {
		if _, err := pw.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// Every write returned, so the pump holds the 100 bytes (the last
	// one may still be on its way into the buffer): they come in one or
	// two Reads, not a hundred.
	p := make([]byte, 1000)
	n, reads := 0, 0
	for n < 100 {
		m, err := b.Read(p[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
		reads++
	}
	if reads > 2 || n != 100 {
		t.Fatalf("%d bytes in %d reads; want 100 in at most 2", n, reads)
	}
	for i := range 100 {
		if p[i] != byte(i) {
			t.Fatalf("byte %d is %d", i, p[i])
		}
	}
	pw.Write([]byte("tail"))
	pw.Close()
	rest, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(rest, []byte("tail")) {
		t.Fatalf("rest %q, %v", rest, err)
	}
	b.Close()
}

func TestCoalescingBodyCloseFailsTheWriter(t *testing.T) {
	pr, pw := io.Pipe()
	b := newCoalescingBody(pr)
	b.Close()
	if _, err := pw.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("write after Close: %v", err)
	}
	if _, err := b.Read(make([]byte, 1)); err == nil {
		t.Fatal("Read after Close succeeded")
	}
}
