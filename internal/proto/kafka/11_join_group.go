package kafka

// JoinGroup, versions 0 to 9.
//
// The classic rebalance protocol (see groups.go). A member without an id
// gets one (the client id and random text); from v4 it is first answered
// MEMBER_ID_REQUIRED with that id, which it must join with within its
// session timeout. The join phase ends when every member has rejoined or
// the rebalance timeout (the longest of the members') passes, which drops
// the members that did not; a group rebalancing from Empty also waits
// Options.GroupInitialRebalanceDelay, extended by each new member up to
// the rebalance timeout, as Kafka does. A session timeout of 0 or less is
// INVALID_SESSION_TIMEOUT. The protocol is the first of the
// leader's that every member supports; the leader is the previous one if
// it is still a member, else the first member id in order. A follower
// rejoining a Stable group with unchanged protocols gets the current
// generation without a rebalance. A member whose protocol type differs
// from the group's, or with no protocol in common, is refused with
// INCONSISTENT_GROUP_PROTOCOL.
//
// Static membership (group.instance.id, v5+) is partial: a member joining
// with a known instance id and no member id replaces the previous
// incarnation, which is fenced (FENCED_INSTANCE_ID), but the group still
// rebalances and the member leaves when its session expires. The session
// timeout is not bounded by broker settings. SkipAssignment (v9) is never
// set; Reason (v8) is ignored.

import (
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleJoinGroup(c *conn, req *kmsg.JoinGroupRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	r := c.joinGroup(req)
	resp.ErrorCode, resp.Generation, resp.LeaderID, resp.MemberID = r.err, r.generation, r.leader, r.memberID
	resp.Members = r.members
	if r.err == 0 {
		resp.Protocol = &r.protocol
		if req.Version >= 7 {
			resp.ProtocolType = &r.ptype
		}
	}
	if resp.Members == nil {
		resp.Members = []kmsg.JoinGroupResponseMember{}
	}
	return resp, nil
}

func (c *conn) joinGroup(req *kmsg.JoinGroupRequest) joinResult {
	switch {
	case !validGroup(req.Group):
		return joinResult{err: kerr.InvalidGroupID.Code, generation: -1}
	case req.SessionTimeoutMillis <= 0:
		return joinResult{err: kerr.InvalidSessionTimeout.Code, generation: -1}
	case len(req.Protocols) == 0 || req.ProtocolType == "":
		return joinResult{err: kerr.InconsistentGroupProtocol.Code, generation: -1}
	}
	m := &member{id: req.MemberID, clientID: c.clientID, host: c.remoteHost(), protocolType: req.ProtocolType,
		protocols: req.Protocols, session: time.Duration(req.SessionTimeoutMillis) * time.Millisecond}
	m.rebalance = m.session
	if req.Version >= 1 && req.RebalanceTimeoutMillis > 0 {
		m.rebalance = time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	}
	if req.InstanceID != nil {
		m.instanceID = *req.InstanceID
	}
	var r joinResult
	var wait chan joinResult
	ok := c.s.groups.do(req.Group, true, func(g *group) {
		r, wait = g.join(m, req.Version >= 4)
	})
	if !ok {
		return joinResult{err: kerr.CoordinatorNotAvailable.Code, generation: -1}
	}
	if wait == nil {
		return r
	}
	select {
	case r = <-wait:
		return r
	case <-c.ctx.Done():
	case <-c.s.polls.Done():
	}
	return joinResult{err: kerr.CoordinatorNotAvailable.Code, generation: -1}
}

func (c *conn) remoteHost() string {
	host, _, _ := net.SplitHostPort(c.nc.RemoteAddr().String())
	return "/" + host
}

// join admits m (the member as it asks) and either answers at once or
// parks a reply channel. Runs on the group's goroutine.
func (g *group) join(m *member, requireID bool) (joinResult, chan joinResult) {
	fail := func(code int16) (joinResult, chan joinResult) {
		return joinResult{err: code, generation: -1, memberID: m.id}, nil
	}
	if g.state == groupDead {
		return fail(kerr.CoordinatorNotAvailable.Code)
	}
	old := g.members[m.id]
	if len(g.members) > 0 && (old == nil || len(g.members) > 1) && !g.compatible(m, old) {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	now := time.Now()
	switch {
	case m.id == "" && m.instanceID != "":
		m.id = newMemberID(m.clientID)
		if prev := g.members[g.static[m.instanceID]]; prev != nil {
			g.static[m.instanceID] = m.id // fence prev before it goes
			delete(g.members, prev.id)
			if prev.join != nil {
				prev.join <- joinResult{err: kerr.FencedInstanceID.Code, generation: -1}
			}
			if prev.sync != nil {
				prev.sync <- syncResult{err: kerr.FencedInstanceID.Code}
			}
			if g.leader == prev.id {
				g.leader = ""
			}
		}
		g.static[m.instanceID] = m.id
	case m.id == "":
		m.id = newMemberID(m.clientID)
		if requireID {
			g.pending[m.id] = now.Add(m.session)
			return fail(kerr.MemberIDRequired.Code)
		}
	case old == nil:
		if _, ok := g.pending[m.id]; !ok {
			return fail(kerr.UnknownMemberID.Code)
		}
		delete(g.pending, m.id)
	case m.instanceID != "" && g.static[m.instanceID] != m.id:
		return fail(kerr.FencedInstanceID.Code)
	}
	if old != nil {
		if old.join != nil { // a retried join replaces the parked one
			old.join <- joinResult{err: kerr.UnknownMemberID.Code, generation: -1}
		}
		if old.sync != nil {
			old.sync <- syncResult{err: kerr.RebalanceInProgress.Code}
			old.sync = nil
		}
		if r, ok := g.rejoinUnchanged(old, m); ok {
			old.lastSeen = now
			return r, nil
		}
		m.assignment = old.assignment
	}
	m.lastSeen = now
	wait := make(chan joinResult, 1)
	m.join = wait
	g.members[m.id] = m
	if g.state == groupPreparingRebalance {
		if old == nil && !g.initialUntil.IsZero() { // a new member extends the initial delay
			g.initialUntil = minTime(now.Add(g.c.s.opts.GroupInitialRebalanceDelay), g.rebalanceAt)
		}
		g.maybeCompleteJoin()
	} else {
		g.rebalance()
	}
	return joinResult{}, wait
}

// compatible reports whether m can join the other members.
func (g *group) compatible(m, old *member) bool {
	var ptype string
	for _, o := range g.members {
		if o != old {
			ptype = o.protocolType
		}
	}
	if ptype != m.protocolType {
		return false
	}
	for _, p := range m.protocols {
		if g.allSupport(p.Name, old) {
			return true
		}
	}
	return false
}

// rejoinUnchanged answers a member that rejoins with the same protocols
// while the group is Stable (a follower) or CompletingRebalance, without
// a new rebalance.
func (g *group) rejoinUnchanged(old, m *member) (joinResult, bool) {
	if !sameProtocols(old.protocols, m.protocols) || old.protocolType != m.protocolType {
		return joinResult{}, false
	}
	if g.state != groupCompletingRebalance && (g.state != groupStable || old.id == g.leader) {
		return joinResult{}, false
	}
	r := joinResult{generation: g.generation, ptype: g.protocolType, protocol: g.protocol,
		leader: g.leader, memberID: old.id}
	if old.id == g.leader {
		r.members = g.joinMembers()
	}
	old.join = nil
	return r, true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
