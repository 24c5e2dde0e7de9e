package wire

import "sync"

// credit is what a stream's sender may still send: it starts at a
// window, each message spends its size, and the receiver's window
// frames add to it. A message may be sent while any credit is left, so
// one larger than the window still goes through.
type credit struct {
	mu     sync.Mutex
	n      int
	window int
	wake   chan struct{}
}

func newCredit(window int) *credit {
	return &credit{n: window, window: window, wake: make(chan struct{}, 1)}
}

// spend waits until credit is left or done is closed (false), then
// spends n.
func (c *credit) spend(n int, done <-chan struct{}) bool {
	for {
		c.mu.Lock()
		if c.n > 0 {
			c.n -= n
			c.mu.Unlock()
			return true
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-done:
			return false
		}
	}
}

// trySpend spends n if credit is left, without waiting.
func (c *credit) trySpend(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n <= 0 {
		return false
	}
	c.n -= n
	return true
}

// add returns n to the sender; false means more than was spent (the
// receiver credits only what it received, so credit never exceeds the
// window).
func (c *credit) add(n int) bool {
	c.mu.Lock()
	ok := c.n+n <= c.window
	if ok {
		c.n += n
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return ok
}
