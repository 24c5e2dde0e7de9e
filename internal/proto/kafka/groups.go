package kafka

// The group coordinator for the classic consumer-group protocol.
//
// Each group has one owning goroutine (run), which alone touches the
// group's state. Handlers send it closures (do); a closure that cannot
// answer at once (a JoinGroup waiting for the other members, a SyncGroup
// waiting for the leader) parks a reply channel on the member, and the
// handler waits on it, on the group's end and on its connection.
//
// States: Empty → PreparingRebalance → CompletingRebalance → Stable, back
// to PreparingRebalance when membership or a member's protocols change,
// to Empty when the last member leaves, and Dead when the group is
// deleted or the server stops. One timer per group fires at the earliest
// of: a member's session deadline, the rebalance deadline, the initial
// rebalance delay, a pending member id's expiry. A group's goroutine ends
// when the group is Empty and has no pending member ids; its committed
// offsets live in the Backend, not in the coordinator.

import (
	"bytes"
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type groupState int8

const (
	groupEmpty groupState = iota
	groupPreparingRebalance
	groupCompletingRebalance
	groupStable
	groupDead
)

func (s groupState) String() string {
	return [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}[s]
}

// coordinator owns the groups that have members.
type coordinator struct {
	s  *Server
	mu struct {
		sync.Mutex
		groups map[string]*group
	}
}

func newCoordinator(s *Server) *coordinator {
	c := &coordinator{s: s}
	c.mu.groups = map[string]*group{}
	return c
}

type group struct {
	c    *coordinator
	name string
	reqs chan func()
	done chan struct{} // closed when run returns

	// Owned by run.
	state        groupState
	protocolType string
	protocol     string
	generation   int32
	leader       string
	members      map[string]*member
	pending      map[string]time.Time // member ids handed out (v4+), not yet joined
	static       map[string]string    // instance id → member id
	rebalanceAt  time.Time            // rebalance deadline while preparing
	initialUntil time.Time            // initial rebalance delay while preparing from Empty
	timer        *time.Timer
}

type member struct {
	id, instanceID     string
	clientID, host     string
	protocolType       string
	protocols          []kmsg.JoinGroupRequestProtocol
	session, rebalance time.Duration
	lastSeen           time.Time
	assignment         []byte
	join               chan joinResult // parked JoinGroup, or nil
	sync               chan syncResult // parked SyncGroup, or nil
}

type joinResult struct {
	err        int16
	generation int32
	ptype      string
	protocol   string
	leader     string
	memberID   string
	members    []kmsg.JoinGroupResponseMember
}

type syncResult struct {
	err        int16
	ptype      string
	protocol   string
	assignment []byte
}

// do runs fn on the group's goroutine, creating the group if create is
// set. It reports false when the group does not exist (and create is
// not set) or the server is stopping.
func (c *coordinator) do(name string, create bool, fn func(g *group)) bool {
	for {
		g := c.lookup(name, create)
		if g == nil {
			return false
		}
		ran := make(chan struct{})
		select {
		case g.reqs <- func() { fn(g); close(ran) }:
			select {
			case <-ran:
				return true
			case <-g.done:
				// fn may have run and ended the group (a leave, a delete).
				select {
				case <-ran:
					return true
				default:
					return false
				}
			}
		case <-g.done:
			// The group ended while we looked it up: look again.
		case <-c.s.polls.Done():
			return false
		}
	}
}

func (c *coordinator) lookup(name string, create bool) *group {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g := c.mu.groups[name]; g != nil || !create {
		return g
	}
	g := &group{c: c, name: name, reqs: make(chan func()), done: make(chan struct{}),
		members: map[string]*member{}, pending: map[string]time.Time{}, static: map[string]string{},
		timer: time.NewTimer(time.Hour)}
	if !c.s.goTracked(g.run) {
		return nil
	}
	c.mu.groups[name] = g
	return g
}

// exists reports whether a group has a goroutine (members or pending ids).
func (c *coordinator) exists(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.groups[name] != nil
}

func (c *coordinator) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.mu.groups))
	for n := range c.mu.groups {
		out = append(out, n)
	}
	return out
}

// run is the group's owning goroutine.
func (g *group) run() {
	defer close(g.done)
	defer g.timer.Stop()
	for {
		select {
		case fn := <-g.reqs:
			fn()
		case <-g.timer.C:
			g.tick(time.Now())
		case <-g.c.s.polls.Done():
			g.state = groupDead
			g.c.forget(g)
			return
		}
		if g.idle() {
			// Callers find the group under mu: once it is forgotten none
			// can, and one already holding it sees done and looks again.
			g.c.forget(g)
			return
		}
		g.rearm(time.Now())
	}
}

func (g *group) idle() bool {
	return g.state == groupDead || (g.state == groupEmpty && len(g.members) == 0 && len(g.pending) == 0)
}

func (c *coordinator) forget(g *group) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.groups[g.name] == g {
		delete(c.mu.groups, g.name)
	}
}

// rearm sets the timer to the earliest deadline.
func (g *group) rearm(now time.Time) {
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, m := range g.members {
		if m.join == nil && m.sync == nil {
			earliest(m.lastSeen.Add(m.session))
		}
	}
	for _, t := range g.pending {
		earliest(t)
	}
	if g.state == groupPreparingRebalance {
		earliest(g.rebalanceAt)
		earliest(g.initialUntil)
	}
	d := time.Hour
	if !next.IsZero() {
		d = max(next.Sub(now), 0)
	}
	g.timer.Reset(d)
}

// tick expires sessions and pending ids and ends overdue rebalances.
func (g *group) tick(now time.Time) {
	for id, t := range g.pending {
		if !now.Before(t) {
			delete(g.pending, id)
		}
	}
	for _, m := range g.members {
		if m.join == nil && m.sync == nil && !now.Before(m.lastSeen.Add(m.session)) {
			g.remove(m)
		}
	}
	if g.state != groupPreparingRebalance {
		return
	}
	if !g.initialUntil.IsZero() && !now.Before(g.initialUntil) {
		g.initialUntil = time.Time{}
	}
	if !now.Before(g.rebalanceAt) {
		for _, m := range g.members {
			if m.join == nil {
				g.remove(m)
			}
		}
		g.initialUntil = time.Time{}
	}
	g.maybeCompleteJoin()
}

// remove drops a member, answering whatever it has parked, and moves the
// group on.
func (g *group) remove(m *member) {
	delete(g.members, m.id)
	if m.instanceID != "" && g.static[m.instanceID] == m.id {
		delete(g.static, m.instanceID)
	}
	if m.join != nil {
		m.join <- joinResult{err: kerr.UnknownMemberID.Code}
		m.join = nil
	}
	if m.sync != nil {
		m.sync <- syncResult{err: kerr.UnknownMemberID.Code}
		m.sync = nil
	}
	if g.leader == m.id {
		g.leader = ""
	}
	switch g.state {
	case groupStable, groupCompletingRebalance:
		g.rebalance()
	case groupPreparingRebalance:
		g.maybeCompleteJoin()
	}
}

// rebalance moves the group to PreparingRebalance; parked syncs are told
// to rejoin.
func (g *group) rebalance() {
	if len(g.members) == 0 {
		g.toEmpty()
		return
	}
	now := time.Now()
	if g.state == groupEmpty && g.c.s.opts.GroupInitialRebalanceDelay > 0 {
		g.initialUntil = now.Add(g.c.s.opts.GroupInitialRebalanceDelay)
	}
	g.state = groupPreparingRebalance
	var rt time.Duration
	for _, m := range g.members {
		rt = max(rt, m.rebalance)
		if m.sync != nil {
			m.sync <- syncResult{err: kerr.RebalanceInProgress.Code}
			m.sync = nil
		}
	}
	g.rebalanceAt = now.Add(rt)
	g.maybeCompleteJoin()
}

func (g *group) toEmpty() {
	if g.state != groupEmpty {
		g.generation++
	}
	g.state, g.leader, g.protocol = groupEmpty, "", ""
	g.rebalanceAt, g.initialUntil = time.Time{}, time.Time{}
}

// maybeCompleteJoin ends the join phase once every member has rejoined
// (and the initial delay is over): a new generation, a protocol, a leader.
func (g *group) maybeCompleteJoin() {
	if g.state != groupPreparingRebalance || !g.initialUntil.IsZero() {
		return
	}
	for _, m := range g.members {
		if m.join == nil {
			return
		}
	}
	if len(g.members) == 0 {
		g.toEmpty()
		return
	}
	g.generation++
	g.state = groupCompletingRebalance
	if g.members[g.leader] == nil {
		g.leader = ""
		for _, id := range g.memberIDs() {
			g.leader = id
			break
		}
	}
	leader := g.members[g.leader]
	g.protocolType = leader.protocolType
	g.protocol = g.chooseProtocol(leader)
	now := time.Now()
	for _, id := range g.memberIDs() {
		m := g.members[id]
		r := joinResult{generation: g.generation, ptype: g.protocolType, protocol: g.protocol,
			leader: g.leader, memberID: m.id}
		if m.id == g.leader {
			r.members = g.joinMembers()
		}
		m.join <- r
		m.join, m.lastSeen, m.assignment = nil, now, nil
	}
}

func (g *group) memberIDs() []string {
	ids := make([]string, 0, len(g.members))
	for id := range g.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// chooseProtocol is the first of the leader's protocols that every
// member supports (join refuses members that would leave none).
func (g *group) chooseProtocol(leader *member) string {
	for _, p := range leader.protocols {
		if g.allSupport(p.Name, nil) {
			return p.Name
		}
	}
	return ""
}

// allSupport reports whether every member other than except supports
// the protocol.
func (g *group) allSupport(name string, except *member) bool {
	for _, m := range g.members {
		if m != except && !slices.ContainsFunc(m.protocols, func(p kmsg.JoinGroupRequestProtocol) bool { return p.Name == name }) {
			return false
		}
	}
	return true
}

func (g *group) joinMembers() []kmsg.JoinGroupResponseMember {
	var out []kmsg.JoinGroupResponseMember
	for _, id := range g.memberIDs() {
		m := g.members[id]
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		if m.instanceID != "" {
			jm.InstanceID = &m.instanceID
		}
		jm.ProtocolMetadata = m.metadata(g.protocol)
		out = append(out, jm)
	}
	return out
}

func (m *member) metadata(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

func sameProtocols(a, b []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(a, b, func(x, y kmsg.JoinGroupRequestProtocol) bool {
		return x.Name == y.Name && bytes.Equal(x.Metadata, y.Metadata)
	})
}

func newMemberID(clientID string) string {
	return clientID + "-" + rand.Text()
}

// check validates a member's generation for Heartbeat, SyncGroup and
// OffsetCommit.
func (g *group) check(memberID, instanceID string, generation int32) int16 {
	m := g.members[memberID]
	switch {
	case instanceID != "" && g.static[instanceID] != "" && g.static[instanceID] != memberID:
		return kerr.FencedInstanceID.Code
	case m == nil:
		return kerr.UnknownMemberID.Code
	case generation != g.generation:
		return kerr.IllegalGeneration.Code
	}
	return 0
}
