package log

import (
	"context"
	"fmt"
)

// group is a run of batches that one commit writes and makes durable.
//
// Its bytes are pieces: buffers of at least pieceBytes, each holding
// whole batches back to back, written one after another. An appender
// copies its batch into the last piece if it fits there and starts a new
// piece otherwise, so a buffer is never regrown (and the bytes already in
// it never copied again), whatever the batch sizes. Pieces of released
// groups are kept for reuse (queue.spare).
type group struct {
	pieces [][]byte
	size   int   // bytes in pieces
	count  int   // batches
	next   int64 // offset after the group's last batch
	done   chan struct{}
	err    error
	pos    int64 // where it was written in the active segment
}

// pieceBytes is the smallest piece: one 1 MiB Kafka batch, or thousands
// of small ones.
const pieceBytes = 1 << 20

// maxSpare bounds the pieces kept for reuse.
const maxSpare = 16

func newGroup() *group { return &group{done: make(chan struct{})} }

// add appends a batch of size bytes to g, written by put (which appends
// exactly that many bytes to what it is given), and returns it. Caller
// holds amu.
func (g *group) add(size int, put func(dst []byte) []byte, spare *[][]byte) []byte {
	n := len(g.pieces)
	if n == 0 || cap(g.pieces[n-1])-len(g.pieces[n-1]) < size {
		g.pieces = append(g.pieces, takePiece(spare, size))
		n++
	}
	p := g.pieces[n-1]
	at := len(p)
	p = put(p)
	if len(p)-at != size { // g.size would misplace every later batch
		panic(fmt.Sprintf("log: a batch of %d bytes announced as %d", len(p)-at, size))
	}
	g.pieces[n-1] = p
	g.size += size
	g.count++
	return p[at:]
}

// takePiece returns an empty buffer that holds at least n bytes, reusing
// a spare one if one is large enough.
func takePiece(spare *[][]byte, n int) []byte {
	s := *spare
	for i := len(s) - 1; i >= 0; i-- {
		if cap(s[i]) >= n {
			p := s[i][:0]
			s[i] = s[len(s)-1]
			s[len(s)-1] = nil
			*spare = s[:len(s)-1]
			return p
		}
	}
	return make([]byte, 0, max(n, pieceBytes))
}

// batches calls fn with each batch of g and its position in the segment.
func (g *group) batches(fn func(pos int64, b []byte)) {
	pos := g.pos
	for _, p := range g.pieces {
		for len(p) > 0 {
			h, _ := parseHeader(p)
			fn(pos, p[:h.Length])
			pos += int64(h.Length)
			p = p[h.Length:]
		}
	}
}

// wait returns once the group is written and synced, or ctx ends.
func (g *group) wait(ctx context.Context) error {
	select {
	case <-g.done:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
