package broker

import (
	"container/heap"
	"slices"
	"time"
)

// entryState is where a message of a group is.
type entryState int

const (
	stReady     entryState = iota // in group.ready
	stKeyQueued                   // in its key's queue, waiting for the key (keyed)
	stBacklog                     // assigned to a full member's backlog (keyed)
	stPending                     // delivered, waiting for a settle
	stWaiting                     // waiting to be redelivered (backoff, nack delay)
	stDelayed                     // not due yet (deliver-at)
	stDLQ                         // being dead-lettered
	stDone                        // settled
)

// entry is one message of a partition held by a group. Entries leave the
// deques lazily: a deque holder skips entries whose state is not its own.
type entry struct {
	part       *gpart
	off        int64
	msg        *Message
	deliveries int
	state      entryState
	member     *Member
	seq        int  // bumped at each delivery; stale Deliveries fail
	handed     bool // the pump handed the current delivery to its member
	recorded   bool // a "dlv" record of it is stored (or being written)
	expires    time.Time
	holdsKey   bool
	counted    bool      // counts against the partition's read-ahead bound
	detached   bool      // msg holds its own bytes, not its read chunk's (chunk.go)
	chunk      *chunkRef // the read chunk msg aliases, until finished or detached

	due  time.Time
	hidx int // index in the timer heap, -1 when absent
}

func (e *entry) key() (string, bool) {
	if e.msg.Key == nil {
		return "", false
	}
	return string(e.msg.Key), true
}

func (e *entry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// timerHeap orders entries by due time.
type timerHeap []*entry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if !a.due.Equal(b.due) {
		return a.due.Before(b.due)
	}
	if a.part.idx != b.part.idx {
		return a.part.idx < b.part.idx
	}
	return a.off < b.off // same time: offset order
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *timerHeap) Push(x any) {
	e := x.(*entry)
	e.hidx = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.hidx = -1
	return e
}

// scheduleLocked sets e's timer to t.
func (g *group) scheduleLocked(e *entry, t time.Time) {
	e.due = t
	if e.hidx >= 0 {
		heap.Fix(&g.timers, e.hidx)
	} else {
		heap.Push(&g.timers, e)
	}
	if e.hidx == 0 {
		g.wakeTimer()
	}
}

func (g *group) unscheduleLocked(e *entry) {
	if e.hidx >= 0 {
		heap.Remove(&g.timers, e.hidx)
	}
}

// timerLoop fires due timers.
func (g *group) timerLoop() {
	defer g.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		g.mu.Lock()
		wait := time.Hour
		if len(g.timers) > 0 {
			wait = max(time.Until(g.timers[0].due), 0)
		}
		g.mu.Unlock()
		t.Reset(wait)
		select {
		case <-t.C:
			g.fire()
		case <-g.tick:
		case <-g.ctx.Done():
			return
		}
	}
}

// fire handles every due timer, in (time, partition, offset) order. The
// entries it returns to the front of the ready queue go there in offset
// order, ahead of the rest.
func (g *group) fire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	g.front = []*entry{}
	for len(g.timers) > 0 && !g.timers[0].due.After(now) {
		g.dueLocked(heap.Pop(&g.timers).(*entry), now)
	}
	slices.SortFunc(g.front, byOffset)
	for i := len(g.front) - 1; i >= 0; i-- {
		g.ready.pushFront(g.front[i])
	}
	g.front = nil
	g.dispatchLocked()
}

// waitLocked parks e until t, or until its TTL passes if that is sooner.
func (g *group) waitLocked(e *entry, st entryState, t time.Time) {
	e.state = st
	detachLocked(e) // held a while: keep only its own bytes (chunk.go)
	if !e.expires.IsZero() && e.expires.Before(t) {
		t = e.expires
	}
	g.scheduleLocked(e, t)
}

// dueLocked handles an entry whose timer fired.
func (g *group) dueLocked(e *entry, now time.Time) {
	switch e.state {
	case stPending: // the ack wait ran out
		m := e.member
		handed := g.undeliverLocked(e)
		if g.cfg.Mode == Exclusive && len(g.members) > 1 && g.members[0] == m {
			g.demoteLocked(m)
		}
		if !handed { // never reached the consumer: not a failed delivery
			g.readyLocked(e, true)
			return
		}
		g.retryLocked(e, 0, now)
	case stWaiting:
		switch {
		case e.expired(now):
			g.deadLetterLocked(e, ReasonExpired, "")
		default:
			g.readyLocked(e, true)
		}
	case stDelayed:
		switch {
		case e.expired(now):
			g.deadLetterLocked(e, ReasonExpired, "")
		case e.msg.DeliverAt.After(now):
			g.waitLocked(e, stDelayed, e.msg.DeliverAt)
		default:
			g.enqueueLocked(e)
		}
	case stReady, stKeyQueued, stBacklog:
		if e.expired(now) {
			g.deadLetterLocked(e, ReasonExpired, "")
		}
	}
}
