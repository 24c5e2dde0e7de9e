package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Preface is what each side writes first on a connection: the client
// to ask for this protocol, the server to accept it. Its first byte is
// zero, which no HTTP request and no TLS handshake starts with, so a
// server can tell it apart by the first byte.
const Preface = "\x00COURIER-WIRE/1\n"

// headerLen is a frame header's size: length (4 bytes), type (1),
// stream id (4), all big-endian.
const headerLen = 9

// Limits a frame is checked against before its payload is read.
const (
	// MaxControlBytes bounds every frame but a message: an open with its
	// headers, an end with its error details and trailers, a go-away.
	MaxControlBytes = 64 << 10
	// DefaultMaxMessageBytes bounds one message when options leave it 0.
	DefaultMaxMessageBytes = 64 << 20
	// streamWindow is the credit, in message bytes, that each side of a
	// stream starts with and that the receiver tops up as it consumes.
	streamWindow = 4 << 20
	// maxStreamsPerConn bounds a connection's open streams on the
	// server.
	maxStreamsPerConn = 4096
)

// frameType says what a frame carries.
type frameType uint8

const (
	frameOpen      frameType = 1 // client: open a stream (procedure, timeout, headers)
	frameMsg       frameType = 2 // both: one message, encoded by the codec
	frameCloseSend frameType = 3 // client: no more messages from the client
	frameHeaders   frameType = 4 // server: the response headers
	frameEnd       frameType = 5 // server: the stream's end (status, trailers)
	frameCancel    frameType = 6 // client: the client abandoned the stream
	frameWindow    frameType = 7 // both: more credit for the other side's messages
	frameGoAway    frameType = 8 // server: no new streams here (reason)
)

func (t frameType) String() string {
	names := [...]string{"", "open", "message", "close-send", "headers", "end", "cancel", "window", "go-away"}
	if int(t) < len(names) && t != 0 {
		return names[t]
	}
	return fmt.Sprintf("frame type %d", uint8(t))
}

// frameHeader is a frame's fixed part.
type frameHeader struct {
	length uint32
	typ    frameType
	stream uint32
}

// appendFrame appends a frame header for a payload of n bytes.
func appendFrame(b []byte, typ frameType, stream uint32, n int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, byte(typ))
	return binary.BigEndian.AppendUint32(b, stream)
}

func parseHeader(b []byte) frameHeader {
	return frameHeader{
		length: binary.BigEndian.Uint32(b[0:4]),
		typ:    frameType(b[4]),
		stream: binary.BigEndian.Uint32(b[5:9]),
	}
}

// errMalformed marks a payload that does not decode.
var errMalformed = errors.New("malformed payload")

// A payload's fields are unsigned varints and strings or byte strings
// (a varint length, then the bytes). enc appends them; dec reads them
// and remembers the first failure.

type enc []byte

func (e enc) uvarint(v uint64) enc { return binary.AppendUvarint(e, v) }
func (e enc) str(s string) enc     { return append(e.uvarint(uint64(len(s))), s...) }
func (e enc) bytes(b []byte) enc   { return append(e.uvarint(uint64(len(b))), b...) }

type dec struct {
	b   []byte
	err error
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errMalformed
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number of items that each take at least min bytes, so
// that a forged count cannot make the reader allocate more than the
// payload could hold.
func (d *dec) count(min int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/min) {
		d.err = errMalformed
		return 0
	}
	return int(n)
}

func (d *dec) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errMalformed
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string { return string(d.bytes()) }

// end reports the first failure, or leftover bytes.
func (d *dec) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errMalformed
	}
	return d.err
}

// readFrameHeader reads a frame header, through hdr (headerLen bytes).
func readFrameHeader(r io.Reader, hdr []byte) (frameHeader, error) {
	if _, err := io.ReadFull(r, hdr[:headerLen]); err != nil {
		return frameHeader{}, err
	}
	return parseHeader(hdr), nil
}

// frameReader reads a connection's frames, both sides alike: a message
// frame goes to message, which reads its payload itself (readMessage);
// any other is read whole (bounded by MaxControlBytes) and goes to
// handle. It returns the first error: the connection's, or one of
// message's or handle's.
type frameReader struct {
	r   io.Reader
	hdr [headerLen]byte
	ctl []byte // control payloads are read here
}

func (fr *frameReader) run(message func(frameHeader) error, handle func(frameHeader, []byte) error) error {
	for {
		h, err := readFrameHeader(fr.r, fr.hdr[:])
		if err != nil {
			return err
		}
		if h.typ == frameMsg {
			if err := message(h); err != nil {
				return err
			}
			continue
		}
		if h.length > MaxControlBytes {
			return protocolError("%s frame of %d bytes is over the limit of %d", h.typ, h.length, MaxControlBytes)
		}
		fr.ctl = growTo(fr.ctl, int(h.length))
		if _, err := io.ReadFull(fr.r, fr.ctl); err != nil {
			return err
		}
		if err := handle(h, fr.ctl); err != nil {
			return err
		}
	}
}

func growTo(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
