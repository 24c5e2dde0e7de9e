package broker

// Ready returns a channel that receives a signal when deliveries may be
// queued for the member: call Take then. Signals coalesce, so after one
// the caller takes until Take returns none. Select on Done as well.
func (m *Member) Ready() <-chan struct{} { return m.wake }

// Take hands over up to limit queued deliveries (appended to buf), each
// counting as delivered from now; stale ones are dropped. It does not
// wait: with none queued it returns buf unchanged. A member read with
// Take is not read with C.
func (m *Member) Take(buf []*Delivery, limit int) []*Delivery {
	g := m.g
	g.mu.Lock()
	defer g.mu.Unlock()
	var n, size int64
	for len(m.queue) > 0 && limit > 0 {
		d := m.queue[0]
		m.queue[0] = nil
		m.queue = m.queue[1:]
		if !m.valid(d) {
			continue
		}
		g.handedLocked(d.e)
		d.Deliveries = d.e.deliveries
		size += int64(msgSize(&d.Message))
		n++
		limit--
		buf = append(buf, d)
	}
	if len(m.queue) > 0 {
		select { // the caller stopped at limit: have it come back
		case m.wake <- struct{}{}:
		default:
		}
	}
	if len(m.queue) == 0 {
		m.queue = nil // let the array go
	}
	if n > 0 {
		g.st.ctr.addOut(n, size)
	}
	if m.pull { // taken: no longer wanted
		m.want = max(0, m.want-int(n))
	}
	return buf
}
