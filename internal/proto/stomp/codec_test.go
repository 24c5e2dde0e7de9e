package stomp

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

var testLimits = limits{line: 128, headers: 8, headerBytes: 512, body: 256}

// chunkReader returns at most n bytes per Read, to split frames
// anywhere.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

func readAll(t *testing.T, in string, esc escaping) ([]*Frame, error) {
	t.Helper()
	r := newFrameReader(&chunkReader{b: []byte(in), n: 3}, testLimits)
	r.esc = esc
	var fs []*Frame
	for {
		f, err := r.ReadFrame()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return fs, err
		}
		fs = append(fs, f)
	}
}

func TestCodecReadFrames(t *testing.T) {
	in := "\n\r\nSEND\r\ndestination:/a\r\nk\\c:v\\n\\\\\\r\r\nk\\c:second\r\n\r\nhello\x00\n\n" +
		"SEND\ncontent-length:3\n\na\x00b\x00" +
		"DISCONNECT\n\n\x00"
	fs, err := readAll(t, in, esc12)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 {
		t.Fatalf("got %d frames", len(fs))
	}
	if v := fs[0].Value("k:"); v != "v\n\\\r" || string(fs[0].Body) != "hello" || fs[0].Value("destination") != "/a" {
		t.Errorf("frame 0: %v %q", fs[0].Headers, fs[0].Body)
	}
	if string(fs[1].Body) != "a\x00b" {
		t.Errorf("frame 1 body %q: content-length must allow a NUL", fs[1].Body)
	}
	if fs[2].Command != cmdDisconnect {
		t.Errorf("frame 2 %s", fs[2].Command)
	}
}

func TestCodecEscapesByVersion(t *testing.T) {
	for _, tc := range []struct {
		esc     escaping
		in, out string
		bad     bool
	}{
		{escNone, `a\tb`, `a\tb`, false},
		{esc11, `a\nb`, "a\nb", false},
		{esc11, `a\rb`, "", true}, // \r is an escape only from 1.2
		{esc12, `a\rb`, "a\rb", false},
		{esc12, `a\tb`, "", true},
		{esc12, `ab\`, "", true},
	} {
		fs, err := readAll(t, "SEND\nh:"+tc.in+"\n\n\x00", tc.esc)
		if tc.bad {
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Msg != "bad escape" {
				t.Errorf("%d %q: err %v, want bad escape", tc.esc, tc.in, err)
			}
			continue
		}
		if err != nil || fs[0].Value("h") != tc.out {
			t.Errorf("%d %q: %v %v", tc.esc, tc.in, fs, err)
		}
	}
}

func TestCodecLimits(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{strings.Repeat("A", 200) + "\n", "line too long"},
		{"SEND\n" + strings.Repeat("h:v\n", 9) + "\n\x00", "too many headers"},
		{"SEND\n" + strings.Repeat("h:"+strings.Repeat("v", 100)+"\n", 6) + "\n\x00", "headers too large"},
		{"SEND\ncontent-length:257\n\n", "body too large"},
		{"SEND\n\n" + strings.Repeat("b", 257) + "\x00", "body too large"},
		{"SEND\ncontent-length:1\n\nab\x00", "frame not terminated"},
		{"SEND\nnocolon\n\n\x00", "malformed header"},
	} {
		_, err := readAll(t, tc.in, esc12)
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Msg != tc.want {
			t.Errorf("%.30q: err %v, want %s", tc.in, err, tc.want)
		}
	}
	// Cut short: an unexpected EOF, not a protocol error.
	if _, err := readAll(t, "SEND\ndestination:/a\n\nbody", esc12); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut frame: %v", err)
	}
}

func TestCodecWriterRoundTrip(t *testing.T) {
	f := &Frame{Command: cmdMessage, Headers: []Header{{"a:b", "c\nd\\e\rf"}, {hdrContentLength, "999"}, {"x", ""}}, Body: []byte("x\x00y")}
	for _, esc := range []escaping{esc11, esc12} {
		out := encodeFrame(f, esc)
		fs, err := readAll(t, string(out), esc)
		if err != nil || len(fs) != 1 {
			t.Fatalf("esc %d: %v %v", esc, fs, err)
		}
		got := fs[0]
		if cl := got.Value(hdrContentLength); cl != "3" {
			t.Errorf("esc %d: content-length %q, want 3", esc, cl)
		}
		if !bytes.Equal(got.Body, f.Body) {
			t.Errorf("esc %d: body %q", esc, got.Body)
		}
		if esc == esc12 && got.Value("a:b") != "c\nd\\e\rf" {
			t.Errorf("header %q", got.Value("a:b"))
		}
		if esc == esc11 && slices.ContainsFunc(got.Headers, func(h Header) bool { return h.Key == "a:b" }) {
			t.Errorf("1.1 cannot carry \\r, the header must be left out")
		}
	}
	// CONNECTED and 1.0 are not escaped.
	if out := encodeFrame(&Frame{Command: cmdConnected, Headers: []Header{{"session", `a\b`}}}, escNone); !bytes.Contains(out, []byte(`session:a\b`)) {
		t.Errorf("unescaped frame: %q", out)
	}
}
