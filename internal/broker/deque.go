package broker

// deque is a double-ended queue of entries on a ring buffer.
type deque struct {
	buf        []*entry
	head, size int
}

func (d *deque) len() int { return d.size }

func (d *deque) grow() {
	if d.size < len(d.buf) {
		return
	}
	nb := make([]*entry, max(16, 2*len(d.buf)))
	for i := range d.size {
		nb[i] = d.buf[(d.head+i)%len(d.buf)]
	}
	d.buf, d.head = nb, 0
}

func (d *deque) pushBack(e *entry) {
	d.grow()
	d.buf[(d.head+d.size)%len(d.buf)] = e
	d.size++
}

func (d *deque) pushFront(e *entry) {
	d.grow()
	d.head = (d.head - 1 + len(d.buf)) % len(d.buf)
	d.buf[d.head] = e
	d.size++
}

func (d *deque) front() *entry { return d.buf[d.head] }

func (d *deque) popFront() *entry {
	e := d.buf[d.head]
	d.buf[d.head] = nil
	d.head = (d.head + 1) % len(d.buf)
	d.size--
	return e
}

// drain removes and returns every entry, in order.
func (d *deque) drain() []*entry {
	out := make([]*entry, 0, d.size)
	for d.size > 0 {
		out = append(out, d.popFront())
	}
	return out
}
