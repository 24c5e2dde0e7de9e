package mqtt

import (
	"time"
)

// maxCoalesce bounds how many bytes one write gathers.
const maxCoalesce = 64 << 10

// outFrame is one packet in the connection's ordered write queue: ready
// bytes, or await, which the writer calls in order and which blocks until
// the packet is ready (a PUBACK waits for its publish to be durable) and
// returns it (nil for nothing to write). close ends the writer once what
// came before is written.
type outFrame struct {
	b     []byte
	await func() ([]byte, error)
	close bool
}

// writeLoop writes the queued packets in order, gathering the ready ones
// queued together into one write. It closes the socket when it ends.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	defer c.close()
	var buf []byte
	for {
		var f outFrame
		select {
		case f = <-c.out:
		case <-c.ctx.Done():
			return
		}
		for {
			if f.close {
				c.write(buf)
				return
			}
			if f.await != nil && len(buf) > 0 { // do not hold ready packets while waiting
				if !c.write(buf) {
					return
				}
				buf = buf[:0]
			}
			b, err := f.resolve()
			if err != nil {
				c.s.log.Info("mqtt: closing connection", "remote", c.nc.RemoteAddr(), "client", c.clientID, "err", err)
				return
			}
			buf = append(buf, b...)
			if len(buf) >= maxCoalesce || !c.next(&f) {
				break
			}
		}
		if !c.write(buf) {
			return
		}
		buf = buf[:0]
		if cap(buf) > 4*maxCoalesce {
			buf = nil
		}
	}
}

// next takes the next queued frame without waiting.
func (c *conn) next(f *outFrame) bool {
	select {
	case *f = <-c.out:
		return true
	default:
		return false
	}
}

func (f *outFrame) resolve() ([]byte, error) {
	if f.await == nil {
		return f.b, nil
	}
	return f.await()
}

// write writes b and reports whether it succeeded. A client that reads
// nothing for WriteTimeout is cut off (the slow-consumer rule).
func (c *conn) write(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.s.log.Debug("mqtt: write", "remote", c.nc.RemoteAddr(), "client", c.clientID, "err", err)
		return false
	}
	return true
}
