package stomp

import (
	"net"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// heartBeatEOL is what the server sends when it has had nothing else
// to send for a heart-beat interval.
var heartBeatEOL = []byte{'\n'}

// writeLoop writes what is queued, everything at once in one writev,
// and a heart-beat EOL when nothing was written for the negotiated
// interval. A write that does not finish within WriteTimeout closes the
// connection. After a last frame it ends and stops the reader.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	defer c.out.close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var every time.Duration
	rearm := func() {
		if every > 0 {
			timer.Reset(every)
		}
	}
	var items []outItem
	var acks []*broker.Delivery
	for {
		select {
		case <-c.out.ready:
		case every = <-c.beatEvery:
			rearm()
			continue
		case <-timer.C:
			if !c.write(net.Buffers{heartBeatEOL}) {
				return
			}
			rearm()
			continue
		case <-c.ctx.Done():
			return
		}
		items = c.out.take(items[:0])
		bufs := make(net.Buffers, 0, len(items))
		last := false
		for _, it := range items {
			if len(it.frame) > 0 {
				bufs = append(bufs, it.frame)
			}
			if it.ack != nil {
				acks = append(acks, it.ack)
			}
			last = last || it.last
		}
		clear(items)
		if len(bufs) > 0 && !c.write(bufs) {
			return
		}
		if len(acks) > 0 {
			broker.SettleAll(acks, broker.Settlement{Outcome: broker.OutcomeAck})
			clear(acks)
			acks = acks[:0]
		}
		if last {
			c.stopReading()
			return
		}
		timer.Stop()
		rearm()
	}
}

// write writes bufs with the write deadline; on failure it closes the
// connection and reports false.
func (c *conn) write(bufs net.Buffers) bool {
	c.nc.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
	if _, err := bufs.WriteTo(c.nc); err != nil {
		if c.ctx.Err() == nil {
			c.s.log.Info("stomp: write failed, closing connection", "remote", c.nc.RemoteAddr(), "session", c.session, "err", err)
		}
		c.abort()
		return false
	}
	return true
}
