package client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// envelope frames msg as Connect does: flags, big-endian length, bytes.
func envelope(msg string) []byte {
	b := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	return append(b, msg...)
}

// writeLikeConnect writes each message as Connect does: the prefix,
// then the message, two writes.
func writeLikeConnect(w *io.PipeWriter, msgs ...string) {
	for _, m := range msgs {
		e := envelope(m)
		if _, err := w.Write(e[:5]); err != nil {
			return
		}
		if len(m) > 0 {
			if _, err := w.Write(e[5:]); err != nil {
				return
			}
		}
	}
	w.Close()
}

// TestEnvelopeBodyReadsWholeEnvelopes: each read returns one whole
// envelope, empty messages included, then EOF.
func TestEnvelopeBodyReadsWholeEnvelopes(t *testing.T) {
	pr, pw := io.Pipe()
	msgs := []string{"hello", "", "a longer message"}
	go writeLikeConnect(pw, msgs...)
	b := &envelopeBody{r: pr}
	buf := make([]byte, 1024)
	for _, m := range msgs {
		n, err := b.Read(buf)
		if err != nil || !bytes.Equal(buf[:n], envelope(m)) {
			t.Fatalf("read %q, %v; want the envelope of %q", buf[:n], err, m)
		}
	}
	if n, err := b.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the last envelope: %d, %v; want EOF", n, err)
	}
}

// TestEnvelopeBodySmallBuffer: a buffer smaller than an envelope gets
// what fits; the bytes come through unchanged and in order.
func TestEnvelopeBodySmallBuffer(t *testing.T) {
	pr, pw := io.Pipe()
	msgs := []string{"0123456789", "abcdefghijklmnopqrstuvwxyz", "x"}
	go writeLikeConnect(pw, msgs...)
	var want []byte
	for _, m := range msgs {
		want = append(want, envelope(m)...)
	}
	got, err := io.ReadAll(struct{ io.Reader }{readerWithBuf{&envelopeBody{r: pr}, 7}})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

// TestEnvelopeBodyStopsOnError: an error inside an envelope ends the
// read with it (the bytes so far are returned with it).
func TestEnvelopeBodyStopsOnError(t *testing.T) {
	pr, pw := io.Pipe()
	boom := errors.New("boom")
	go func() {
		pw.Write(envelope("hello")[:5])
		pw.CloseWithError(boom)
	}()
	n, err := (&envelopeBody{r: pr}).Read(make([]byte, 64))
	if n != 5 || !errors.Is(err, boom) {
		t.Fatalf("read %d, %v; want the 5-byte prefix and the error", n, err)
	}
}

// readerWithBuf reads from r at most n bytes at a time.
type readerWithBuf struct {
	r io.Reader
	n int
}

func (r readerWithBuf) Read(p []byte) (int, error) { return r.r.Read(p[:min(len(p), r.n)]) }
