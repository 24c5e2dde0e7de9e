package netserve

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// ReadGrowing reads exactly what was declared; a client that declares a
// large length and sends little makes it grow no further than a step past
// what arrived.
func TestReadGrowing(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 300)
	got, err := ReadGrowing(bytes.NewReader(data), 250, 64)
	if err != nil || !bytes.Equal(got, data[:250]) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	var grew int
	r := readerFunc(func(p []byte) (int, error) {
		grew = max(grew, cap(p))
		return 0, io.ErrUnexpectedEOF
	})
	if _, err := ReadGrowing(r, 1<<30, 64); !errors.Is(err, io.ErrUnexpectedEOF) || grew > 64 {
		t.Fatalf("1 GiB declared, nothing sent: err %v, buffer up to %d bytes", err, grew)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
