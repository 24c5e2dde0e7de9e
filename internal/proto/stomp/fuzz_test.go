package stomp

import (
	"bytes"
	"io"
	"testing"
)

// FuzzFrameReader feeds arbitrary bytes, in chunks of any size, to the
// frame reader. Nothing may panic; every frame read keeps the limits;
// and every frame read, written back by the writer, reads back the same.
func FuzzFrameReader(f *testing.F) {
	for _, s := range []string{
		"CONNECT\naccept-version:1.2\nheart-beat:10,10\n\n\x00",
		"SEND\r\ndestination:/queue/a\r\ncontent-length:3\r\n\r\na\x00b\x00\n\n",
		"SEND\ndestination:/topic/x\nk\\c:v\\n\\\\\\r\n\nbody\x00",
		"\n\n\r\nSUBSCRIBE\nid:1\nack:client\ndestination:/exchange/e/k.*\n\n\x00",
		"ACK\nid:1-2\ntransaction:t\n\n\x00BEGIN\ntransaction:t\n\n\x00",
		"SEND\ncontent-length:999999\n\n",
		"SEND\nh:a\\tb\n\n\x00",
	} {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		r := newFrameReader(&chunkReader{b: data, n: int(chunk%32) + 1}, testLimits)
		r.esc = esc12
		for range 64 {
			fr, err := r.ReadFrame()
			if err != nil {
				return
			}
			checkFrame(t, fr)
		}
	})
}

func checkFrame(t *testing.T, fr *Frame) {
	if len(fr.Headers) > testLimits.headers || len(fr.Body) > testLimits.body || len(fr.Command) >= testLimits.line {
		t.Fatalf("frame over the limits: %d headers, %d body bytes, command of %d", len(fr.Headers), len(fr.Body), len(fr.Command))
	}
	out := encodeFrame(fr, esc12)
	back := newFrameReader(bytes.NewReader(out), limits{line: 1 << 20, headers: 1000, headerBytes: 1 << 20, body: 1 << 20})
	back.esc = esc12
	got, err := back.ReadFrame()
	if err != nil {
		t.Fatalf("re-reading %q: %v", out, err)
	}
	if got.Command != fr.Command || !bytes.Equal(got.Body, fr.Body) {
		t.Fatalf("round trip: %q %q, want %q %q", got.Command, got.Body, fr.Command, fr.Body)
	}
	want := withoutLength(fr.Headers)
	have := withoutLength(got.Headers)
	if len(want) != len(have) {
		t.Fatalf("round trip headers %v, want %v", have, want)
	}
	for i := range want {
		if want[i] != have[i] {
			t.Fatalf("round trip header %d: %v, want %v", i, have[i], want[i])
		}
	}
	if _, err := back.ReadFrame(); err != io.EOF {
		t.Fatalf("after the frame: %v", err)
	}
}

func withoutLength(hs []Header) []Header {
	var out []Header
	for _, h := range hs {
		if h.Key != hdrContentLength {
			out = append(out, h)
		}
	}
	return out
}
