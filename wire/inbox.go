package wire

import (
	"io"
	"math/bits"
	"sync"
)

// inbox holds a stream's received messages until its reader takes them,
// and the stream's end. The connection's reader pushes without ever
// waiting: the sender's credit bounds what can queue (window), and a
// peer that sends beyond it breaks the protocol.
type inbox struct {
	flow   *connFlow // told of the bytes dropped here
	mu     sync.Mutex
	msgs   [][]byte // queued from head on
	head   int
	queued int   // bytes received and not yet credited back
	owed   int   // bytes taken by the reader and not yet credited back
	end    error // after the messages: io.EOF for a clean end
	abort  bool  // end at once, dropping queued messages
	wake   chan struct{}

	// Inline taking (inline.go).
	inline  func(p []byte) bool // takes a message on the pusher, or refuses it
	credit  func(n int)         // gives the sender n bytes of credit back
	held    bool                // pop returned a message and was not called again
	running int                 // inline calls under way
	idle    chan struct{}       // closed when running drops to 0, if someone waits
}

func newInbox(flow *connFlow) *inbox { return &inbox{flow: flow, wake: make(chan struct{}, 1)} }

// push queues a message; it reports false when the sender went beyond
// its credit.
func (q *inbox) push(p []byte) bool {
	q.mu.Lock()
	// The sender may send while it has credit left, so before this
	// message less than a window was outstanding.
	over := q.queued >= streamWindow
	if !over && q.takeInline(p) {
		return true
	}
	dropped := q.end != nil
	if !dropped {
		q.msgs = append(q.msgs, p)
		q.queued += msgCost(len(p))
	}
	q.mu.Unlock()
	if dropped {
		q.flow.release(msgCost(len(p)))
		putMsgBuf(p)
	}
	q.signal()
	return !over
}

// finish records the end after the queued messages; the first end
// wins. abort drops what is queued (crediting it back), even after an
// end: the reader takes nothing more.
func (q *inbox) finish(err error, abort bool) {
	q.mu.Lock()
	dropped := 0
	if q.end == nil {
		q.end = err
	}
	if abort && !q.abort { // even after an end: what is queued goes
		q.abort = true
		for _, p := range q.msgs[q.head:] {
			dropped += msgCost(len(p))
		}
		q.msgs, q.head = nil, 0
	}
	q.mu.Unlock()
	q.flow.release(dropped)
	q.signal()
}

func (q *inbox) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop waits for the next message or the end.
func (q *inbox) pop() ([]byte, error) {
	for {
		q.mu.Lock()
		q.held = false
		queued := len(q.msgs) - q.head
		if q.end != nil && (q.abort || queued == 0) {
			err := q.end
			q.mu.Unlock()
			return nil, err
		}
		if queued > 0 {
			p := q.msgs[q.head]
			q.msgs[q.head] = nil
			q.head++
			if q.head == len(q.msgs) { // empty: the slice is reused
				q.msgs, q.head = q.msgs[:0], 0
			}
			q.held = true
			q.mu.Unlock()
			return p, nil
		}
		q.mu.Unlock()
		<-q.wake
	}
}

// consumed counts a message of n bytes taken by the reader (crediting the connection)
// and returns the stream's credit to give back to the sender now (0: not
// yet, to batch the updates).
func (q *inbox) consumed(n int) int {
	n = msgCost(n)
	q.flow.release(n)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.owed += n
	if q.owed < streamWindow/4 {
		return 0
	}
	g := q.owed
	q.owed, q.queued = 0, q.queued-g
	return g
}

// Messages are read into pooled buffers, which go back once decoded: a
// codec may not keep what it decodes from. Buffers up to msgPoolBytes
// share one pool; larger ones, up to maxPooledBytes, a pool per power of
// two (a new large buffer costs clearing it as well as allocating it).
// The pools hold *[]byte, and the holders themselves are pooled
// (bufHolders), so that giving a buffer back allocates nothing.
const msgPoolBytes = 64 << 10

var (
	msgBufs    sync.Pool     // *[]byte
	largeBufs  [24]sync.Pool // *[]byte, by log2 of the capacity
	bufHolders = sync.Pool{New: func() any { return new([]byte) }}
)

// getMsgBuf returns a buffer of n bytes.
func getMsgBuf(n int) []byte {
	switch {
	case n <= msgPoolBytes:
		if b := takeBuf(&msgBufs); cap(b) >= n {
			return b[:n]
		}
		return make([]byte, n, max(n, 1<<10))
	case n <= maxPooledBytes:
		k := bits.Len(uint(n - 1))
		if b := takeBuf(&largeBufs[k]); b != nil {
			return b[:n]
		}
		return make([]byte, n, 1<<k)
	}
	return make([]byte, n)
}

// takeBuf takes a buffer from pool, nil if it has none.
func takeBuf(pool *sync.Pool) []byte {
	h, _ := pool.Get().(*[]byte)
	if h == nil {
		return nil
	}
	b := *h
	*h = nil
	bufHolders.Put(h)
	return b
}

// putMsgBuf gives b back once nothing refers to it.
func putMsgBuf(b []byte) {
	c := cap(b)
	var pool *sync.Pool
	switch {
	case c == 0:
		return
	case c <= msgPoolBytes:
		pool = &msgBufs
	case c <= maxPooledBytes && c&(c-1) == 0:
		pool = &largeBufs[bits.Len(uint(c-1))]
	default:
		return
	}
	h := bufHolders.Get().(*[]byte)
	*h = b[:0]
	pool.Put(h)
}

// readMsg reads a message of n bytes. A large one is read into a buffer
// of readStartBytes first and moves to its full size once that much
// arrived, so a frame header alone cannot make the reader take a large
// buffer.
func readMsg(r io.Reader, n int) ([]byte, error) {
	first := min(n, readStartBytes)
	p := getMsgBuf(first)
	if _, err := io.ReadFull(r, p); err != nil {
		putMsgBuf(p)
		return nil, err
	}
	if n == first {
		return p, nil
	}
	full := getMsgBuf(n)
	copy(full, p)
	putMsgBuf(p)
	if _, err := io.ReadFull(r, full[first:]); err != nil {
		putMsgBuf(full)
		return nil, err
	}
	return full, nil
}

// readStartBytes is how much of a large message is read before the rest
// is allocated.
const readStartBytes = 256 << 10

// readMessage reads the payload of message frame h from r into in, once
// the connection's credit (flow) allows it. A message for a stream that
// is over (in nil), or over maxMsg, is skipped without being buffered,
// and its credit given back; tooBig tells the stream of the latter.
func readMessage(r io.Reader, flow *connFlow, h frameHeader, in *inbox, maxMsg int, tooBig func()) error {
	n := int(h.length)
	if !flow.received(msgCost(n)) {
		return protocolError("stream %d: message beyond the connection's credit", h.stream)
	}
	if in == nil || n > maxMsg {
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return err
		}
		flow.release(msgCost(n))
		if in != nil {
			tooBig()
		}
		return nil
	}
	p, err := readMsg(r, n)
	if err != nil {
		return err
	}
	if !in.push(p) {
		return protocolError("stream %d: message beyond the stream's credit", h.stream)
	}
	return nil
}
