package broker

// Pull members. A member joined with JoinPull is offered deliveries only
// while it asks for them (Want), as a JetStream pull consumer or an AMQP
// basic.get: a pull consumer that is not fetching holds nothing back from
// the other members. Want(n) has up to n deliveries queued for Take;
// Want(0) gives back the queued ones not taken (they were never handed
// over, so they do not count as delivered).

// JoinPull adds a pull member to a group (max in flight: the group's).
func (b *Broker) JoinPull(stream, group string) (*Member, error) {
	return b.join(stream, group, 0, true)
}

// Want asks for up to n deliveries to be queued for Take, giving back the
// queued ones beyond n. It does nothing on a member joined with Join.
func (m *Member) Want(n int) {
	if !m.pull {
		return
	}
	g := m.g
	g.mu.Lock()
	defer g.mu.Unlock()
	m.want = max(n, 0)
	for len(m.queue) > m.want {
		d := m.queue[len(m.queue)-1]
		m.queue[len(m.queue)-1] = nil
		m.queue = m.queue[:len(m.queue)-1]
		if m.valid(d) {
			g.undeliverLocked(d.e)
			g.readyLocked(d.e, true)
		}
	}
	g.dispatchLocked()
}
