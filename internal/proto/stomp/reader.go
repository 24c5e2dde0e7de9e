package stomp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/courier-mq/courier/internal/netserve"
)

// limits bound what a frame may hold; each is checked before the bytes
// it guards are buffered.
type limits struct {
	line        int // a command or header line, its end of line included
	headers     int // header lines in one frame
	headerBytes int // all header lines of one frame together
	body        int // body bytes
}

// frameReader reads frames from a stream (spec "Augmented BNF"):
//
//	frame = command EOL *(header EOL) EOL *OCTET NULL *(EOL)
//	EOL   = [CR] LF
//
// End-of-line bytes between frames are heart-beats and are skipped.
// The buffered reader holds at most one line, so a line longer than
// limits.line fails as soon as its first limits.line bytes have arrived.
type frameReader struct {
	br  *bufio.Reader
	lim limits
	esc escaping
	// beat, when set, is called for each heart-beat EOL read between
	// frames.
	beat func()
}

func newFrameReader(r io.Reader, lim limits) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, max(lim.line, 16)), lim: lim}
}

// errLineTooLong marks a line over limits.line.
var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its EOL. The slice is valid
// until the next read.
func (r *frameReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, protoErr("line too long", "a command or header line must be at most %d bytes", r.lim.line)
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// ReadFrame reads the next frame, skipping heart-beats. Bad input is a
// *ProtocolError; other errors come from the connection.
func (r *frameReader) ReadFrame() (*Frame, error) {
	cmd, err := r.readCommand()
	if err != nil {
		return nil, err
	}
	f := &Frame{Command: cmd, Headers: make([]Header, 0, 8)}
	if err := r.readHeaders(f); err != nil {
		return nil, err
	}
	if f.Body, err = r.readBody(f); err != nil {
		return nil, err
	}
	return f, nil
}

func (r *frameReader) readCommand() (string, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return "", err
		}
		if len(line) > 0 {
			return command(line)
		}
		if r.beat != nil {
			r.beat()
		}
	}
}

// command checks a command line: STOMP commands are letters. The
// client commands are returned without allocating.
func command(line []byte) (string, error) {
	switch string(line) {
	case cmdSend:
		return cmdSend, nil
	case cmdAck:
		return cmdAck, nil
	case cmdNack:
		return cmdNack, nil
	case cmdSubscribe:
		return cmdSubscribe, nil
	}
	for _, c := range line {
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return "", protoErr("unknown command", "%q is not a STOMP command", truncate(line))
		}
	}
	return string(line), nil
}

func (r *frameReader) readHeaders(f *Frame) error {
	total := 0
	for {
		line, err := r.readLine()
		if err != nil {
			return unexpectedEOF(err)
		}
		if len(line) == 0 {
			return nil
		}
		if len(f.Headers) == r.lim.headers {
			return protoErr("too many headers", "a frame may carry at most %d headers", r.lim.headers)
		}
		if total += len(line); total > r.lim.headerBytes {
			return protoErr("headers too large", "a frame's headers may take at most %d bytes", r.lim.headerBytes)
		}
		h, err := parseHeader(line, r.esc)
		if err != nil {
			return err
		}
		f.Headers = append(f.Headers, h)
	}
}

// parseHeader splits a header line at its first colon and unescapes
// both sides.
func parseHeader(line []byte, esc escaping) (Header, error) {
	k, v, ok := bytes.Cut(line, []byte{':'})
	if !ok {
		return Header{}, protoErr("malformed header", "header line %q has no ':'", truncate(line))
	}
	if len(k) == 0 {
		return Header{}, protoErr("malformed header", "header line %q has an empty name", truncate(line))
	}
	key, err := unescape(k, esc)
	if err != nil {
		return Header{}, err
	}
	val, err := unescape(v, esc)
	if err != nil {
		return Header{}, err
	}
	return Header{Key: key, Value: val}, nil
}

// unescape decodes the escapes of a header name or value (spec "Value
// Encoding"): an undefined escape is a fatal protocol error.
func unescape(b []byte, esc escaping) (string, error) {
	if esc == escNone || bytes.IndexByte(b, '\\') < 0 {
		return string(b), nil
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			sb.WriteByte(c)
			continue
		}
		if i++; i == len(b) {
			return "", protoErr("bad escape", "header %q ends with a lone backslash", truncate(b))
		}
		switch b[i] {
		case 'n':
			sb.WriteByte('\n')
		case 'c':
			sb.WriteByte(':')
		case '\\':
			sb.WriteByte('\\')
		case 'r':
			if esc != esc12 {
				return "", protoErr("bad escape", "\\r is not an escape before STOMP 1.2 (in %q)", truncate(b))
			}
			sb.WriteByte('\r')
		default:
			return "", protoErr("bad escape", "undefined escape \\%c in %q", b[i], truncate(b))
		}
	}
	return sb.String(), nil
}

// readBody reads the body: content-length bytes then a NUL when the
// header is present, else up to the first NUL; either way at most
// limits.body bytes.
func (r *frameReader) readBody(f *Frame) ([]byte, error) {
	cl, ok := f.Get(hdrContentLength)
	if !ok {
		return r.readToNUL()
	}
	n, err := strconv.ParseUint(cl, 10, 31)
	if err != nil {
		return nil, protoErr("bad content-length", "content-length %q is not a non-negative integer", truncate([]byte(cl)))
	}
	if int(n) > r.lim.body {
		return nil, protoErr("body too large", "content-length %d is over the limit of %d bytes", n, r.lim.body)
	}
	body, err := netserve.ReadGrowing(r.br, int(n), readStep)
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	c, err := r.br.ReadByte()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	if c != 0 {
		return nil, protoErr("frame not terminated", "the %d body bytes given by content-length are not followed by a NUL", n)
	}
	return body, nil
}

func (r *frameReader) readToNUL() ([]byte, error) {
	var body []byte
	for {
		chunk, err := r.br.ReadSlice(0)
		if len(body)+len(chunk) > r.lim.body+1 { // +1: the NUL
			return nil, protoErr("body too large", "a body may be at most %d bytes", r.lim.body)
		}
		if err == nil {
			if body == nil {
				return bytes.Clone(chunk[:len(chunk)-1]), nil
			}
			return append(body, chunk[:len(chunk)-1]...), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, unexpectedEOF(err)
		}
		body = append(body, chunk...)
	}
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// truncate shortens client bytes quoted in an error.
func truncate(b []byte) string {
	const n = 64
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// readStep: a declared length is read in steps of at most this much.
const readStep = 64 << 10
