package client

import (
	"io"
	"strings"
	"sync"
)

// A PublishBatch call sends one small envelope per message. Connect writes
// each into a pipe that the HTTP/2 transport reads one write at a time,
// which costs a DATA frame, a flush and a system call per message. A
// coalescingBody reads the pipe ahead into a buffer, so the transport
// takes everything that piled up while it was writing in one frame.

// coalesceMax bounds the bytes read ahead of the transport.
const coalesceMax = 1 << 20

type coalescingBody struct {
	src io.ReadCloser

	mu   sync.Mutex
	cond *sync.Cond
	buf  []byte
	err  error // from src, once it ended
	shut bool  // Close was called
	done chan struct{}
}

func newCoalescingBody(src io.ReadCloser) *coalescingBody {
	b := &coalescingBody{src: src, done: make(chan struct{})}
	b.cond = sync.NewCond(&b.mu)
	go b.pump()
	return b
}

// pump copies src into buf, waiting while buf is full.
func (b *coalescingBody) pump() {
	defer close(b.done)
	chunk := make([]byte, 32<<10)
	for {
		n, err := b.src.Read(chunk)
		b.mu.Lock()
		for len(b.buf) >= coalesceMax && !b.shut {
			b.cond.Wait()
		}
		if b.shut {
			b.mu.Unlock()
			return
		}
		b.buf = append(b.buf, chunk[:n]...)
		if err != nil {
			b.err = err
		}
		b.cond.Broadcast()
		b.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (b *coalescingBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.buf) == 0 && b.err == nil && !b.shut {
		b.cond.Wait()
	}
	if len(b.buf) > 0 {
		n := copy(p, b.buf)
		b.buf = b.buf[:copy(b.buf, b.buf[n:])]
		b.cond.Broadcast()
		return n, nil
	}
	if b.shut {
		return 0, io.ErrClosedPipe
	}
	return 0, b.err
}

// Close closes src (failing the writer's next write) and ends the pump.
func (b *coalescingBody) Close() error {
	b.mu.Lock()
	b.shut = true
	b.cond.Broadcast()
	b.mu.Unlock()
	err := b.src.Close()
	<-b.done
	return err
}

// coalesces reports whether the request to path gets a coalescing body.
func coalesces(path string) bool {
	return strings.HasSuffix(path, "/PublishBatch")
}
