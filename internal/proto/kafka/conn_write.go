package kafka

import (
	"net"
	"time"
)

// outboundQueue bounds the requests in flight on a connection: handled
// (or, for Produce, with offsets assigned) but not yet answered. When it
// is full the reader stops reading.
const outboundQueue = 64

// maxCoalesce bounds how many bytes of responses one write gathers.
const maxCoalesce = 1 << 20

// outFrame is one request's place in the connection's ordered response
// queue. A ready frame has its bytes in bufs (none for a request without
// a response). A deferred one has await, which the writer calls in
// request order: it blocks until the response is complete (Produce: its
// batches are durable) and returns the bytes, or an error that closes the
// connection. release, when set, runs once the bytes are written (it
// returns the read buffers a Fetch response points into).
type outFrame struct {
	bufs    net.Buffers
	await   func() (net.Buffers, error)
	release func()
}

// resolve returns the frame's bytes, waiting for a deferred frame.
func (f *outFrame) resolve() (net.Buffers, error) {
	if f.await == nil {
		return f.bufs, nil
	}
	return f.await()
}

// pendingWrite gathers the frames of one write.
type pendingWrite struct {
	bufs     net.Buffers
	size     int
	releases []func()
}

func (w *pendingWrite) add(bufs net.Buffers, release func()) {
	for _, b := range bufs {
		w.size += len(b)
	}
	w.bufs = append(w.bufs, bufs...)
	if release != nil {
		w.releases = append(w.releases, release)
	}
}

// done releases the written frames' buffers and empties w.
func (w *pendingWrite) done() {
	for i, r := range w.releases {
		r()
		w.releases[i] = nil
	}
	clear(w.bufs)
	w.bufs, w.size, w.releases = w.bufs[:0], 0, w.releases[:0]
}

// writeLoop writes responses in request order. It waits for each
// deferred frame in turn, and gathers the ready frames queued behind one
// into the same write (writev: stored batches are written from the
// buffers they were read into, not copied). When the reader ends it
// writes what is left and closes the connection.
func (c *conn) writeLoop() {
	defer c.close()
	var (
		w    pendingWrite
		next outFrame
		held bool // next is a deferred frame taken from the queue
	)
	for {
		f := next
		if !held {
			var ok bool
			if f, ok = <-c.out; !ok {
				return
			}
		}
		held = false
		bufs, err := f.resolve()
		if err != nil {
			c.s.log.Info("kafka: closing connection", "remote", c.nc.RemoteAddr(), "err", err)
			return
		}
		w.add(bufs, f.release)
		open := true
	gather:
		for w.size < maxCoalesce {
			select {
			case g, ok := <-c.out:
				switch {
				case !ok:
					open = false
					break gather
				case g.await != nil:
					next, held = g, true
					break gather
				}
				w.add(g.bufs, g.release)
			default:
				break gather
			}
		}
		if !c.write(&w) || !open {
			return
		}
	}
}

// write writes and releases what w gathered, and reports whether the
// write succeeded.
func (c *conn) write(w *pendingWrite) bool {
	defer w.done()
	if w.size == 0 {
		return true
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	bufs := w.bufs // WriteTo consumes its receiver
	if _, err := bufs.WriteTo(c.nc); err != nil {
		c.s.log.Debug("kafka: write", "remote", c.nc.RemoteAddr(), "err", err)
		return false
	}
	return true
}
