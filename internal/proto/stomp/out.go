package stomp

import (
	"context"
	"errors"
	"sync"

	"github.com/courier-mq/courier/internal/broker"
)

// outQueue is a connection's bounded queue of encoded frames for the
// writer. Pushers wait while it holds WriteQueueBytes or more (a frame
// larger than that still passes when the queue is empty); the writer
// takes everything queued at once and writes it in one writev. Since
// the writer holds the batch it took while writing it, a connection
// buffers at most about twice WriteQueueBytes.
type outQueue struct {
	max int

	mu struct {
		sync.Mutex
		items  []outItem
		bytes  int
		closed bool          // no more frames: the writer ended or a closing frame is queued
		space  chan struct{} // closed (and replaced) when the writer takes frames
	}
	ready chan struct{} // signals the writer; capacity 1
}

// outItem is one frame with what to do once it is written.
type outItem struct {
	frame []byte
	// ack, when set, is acked once the frame is written (auto ack).
	ack *broker.Delivery
	// last marks the frame after which the connection closes.
	last bool
}

var errQueueClosed = errors.New("stomp: connection closing")

func newOutQueue(max int) *outQueue {
	q := &outQueue{max: max, ready: make(chan struct{}, 1)}
	q.mu.space = make(chan struct{})
	return q
}

// push queues it, waiting for room until ctx or stop ends. A last frame
// is queued without waiting and closes the queue to later frames.
func (q *outQueue) push(ctx context.Context, stop <-chan struct{}, it outItem) error {
	for {
		q.mu.Lock()
		if q.mu.closed {
			q.mu.Unlock()
			return errQueueClosed
		}
		if it.last || q.mu.bytes == 0 || q.mu.bytes+len(it.frame) <= q.max {
			q.mu.items = append(q.mu.items, it)
			q.mu.bytes += len(it.frame)
			q.mu.closed = it.last
			q.mu.Unlock()
			select {
			case q.ready <- struct{}{}:
			default:
			}
			return nil
		}
		space := q.mu.space
		q.mu.Unlock()
		select {
		case <-space:
		case <-stop:
			return errQueueClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// take returns every queued item (appended to buf) and wakes pushers.
func (q *outQueue) take(buf []outItem) []outItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	buf = append(buf, q.mu.items...)
	clear(q.mu.items)
	q.mu.items = q.mu.items[:0]
	q.mu.bytes = 0
	close(q.mu.space)
	q.mu.space = make(chan struct{})
	return buf
}

// close refuses further frames and wakes pushers.
func (q *outQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.mu.closed = true
	close(q.mu.space)
	q.mu.space = make(chan struct{})
}
