package client

import (
	"encoding/binary"
	"io"
)

// A streaming call's request body is a pipe that Connect writes each
// message into as two writes: its 5-byte envelope prefix (flags, length),
// then its bytes. The HTTP/2 transport sends what each read of the body
// returns as a DATA frame, flushed: two frames and two system calls per
// message, and a hand-off between goroutines for each. envelopeBody reads
// on until the envelope is whole (or the caller's buffer is full), so a
// message leaves in one frame. It never waits for more than the rest of
// an envelope whose prefix it has read, which its writer is writing.

// envelopeBody reads a stream of envelopes, whole envelopes at a time.
type envelopeBody struct {
	r      io.ReadCloser
	prefix [5]byte
	have   int    // prefix bytes of the current envelope read so far
	left   uint32 // message bytes of the current envelope still to come
}

func (b *envelopeBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.consume(p[:n])
	for err == nil && b.inside() && n < len(p) {
		var m int
		m, err = b.r.Read(p[n:])
		b.consume(p[n : n+m])
		n += m
	}
	if n > 0 && err == io.EOF {
		err = nil // the next read reports it
	}
	return n, err
}

func (b *envelopeBody) Close() error { return b.r.Close() }

// inside reports whether the bytes read so far end inside an envelope.
func (b *envelopeBody) inside() bool { return b.have > 0 }

// consume follows the envelope boundaries through p.
func (b *envelopeBody) consume(p []byte) {
	for len(p) > 0 {
		if b.have < len(b.prefix) {
			c := copy(b.prefix[b.have:], p)
			b.have += c
			p = p[c:]
			if b.have < len(b.prefix) {
				return
			}
			b.left = binary.BigEndian.Uint32(b.prefix[1:])
		}
		c := min(uint32(len(p)), b.left)
		b.left -= c
		p = p[c:]
		if b.left == 0 {
			b.have = 0 // the envelope is whole
		}
	}
	if b.have == len(b.prefix) && b.left == 0 {
		b.have = 0 // an empty message
	}
}
