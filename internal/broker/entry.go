package broker

import (
	"container/heap"
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
	seq        int // bumped at each delivery; stale Deliveries fail
	expires    time.Time
	holdsKey   bool
	counted    bool // counts against the partition's read-ahead bound
	dlqReason  string
	dlqErr     string

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

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
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

func (g *group) fire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	for len(g.timers) > 0 && !g.timers[0].due.After(now) {
		g.dueLocked(heap.Pop(&g.timers).(*entry), now)
	}
	g.dispatchLocked()
}

// dueLocked handles an entry whose timer fired.
func (g *group) dueLocked(e *entry, now time.Time) {
	switch e.state {
	case stPending: // the ack wait ran out
		m := e.member
		g.undeliverLocked(e)
		if g.cfg.Mode == Exclusive && len(g.members) > 1 && g.members[0] == m {
			g.demoteLocked(m)
		}
		g.retryLocked(e, 0, now)
	case stWaiting:
		switch {
		case e.dlqReason != "":
			g.deadLetterLocked(e, e.dlqReason, e.dlqErr)
		case e.expired(now):
			g.deadLetterLocked(e, ReasonExpired, "")
		default:
			g.readyLocked(e, true)
		}
	case stDelayed:
		if e.expired(now) {
			g.deadLetterLocked(e, ReasonExpired, "")
			return
		}
		g.enqueueLocked(e)
	case stReady, stKeyQueued, stBacklog:
		if e.expired(now) {
			g.deadLetterLocked(e, ReasonExpired, "")
		}
	}
}
