package kafka

// SyncGroup, versions 0 to 5.
//
// After a join phase every member sends SyncGroup; the leader's carries
// the assignments. Followers wait for the leader; the leader's sync moves
// the group to Stable and answers everyone. A member without an
// assignment gets an empty one. Unknown member: UNKNOWN_MEMBER_ID; another
// generation: ILLEGAL_GENERATION; during a join phase:
// REBALANCE_IN_PROGRESS; a protocol type or name (v5) other than the
// group's: INCONSISTENT_GROUP_PROTOCOL.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleSyncGroup(c *conn, req *kmsg.SyncGroupRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	r := c.syncGroup(req)
	resp.ErrorCode, resp.MemberAssignment = r.err, r.assignment
	if r.err == 0 && req.Version >= 5 {
		resp.ProtocolType, resp.Protocol = &r.ptype, &r.protocol
	}
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp, nil
}

func (c *conn) syncGroup(req *kmsg.SyncGroupRequest) syncResult {
	var r syncResult
	var wait chan syncResult
	ok := c.s.groups.do(req.Group, false, func(g *group) { r, wait = g.sync(req) })
	if !ok {
		return syncResult{err: kerr.UnknownMemberID.Code}
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
	return syncResult{err: kerr.CoordinatorNotAvailable.Code}
}

// sync runs on the group's goroutine.
func (g *group) sync(req *kmsg.SyncGroupRequest) (syncResult, chan syncResult) {
	if code := g.check(req.MemberID, deref(req.InstanceID), req.Generation); code != 0 {
		return syncResult{err: code}, nil
	}
	if (req.ProtocolType != nil && *req.ProtocolType != g.protocolType) ||
		(req.Protocol != nil && *req.Protocol != g.protocol) {
		return syncResult{err: kerr.InconsistentGroupProtocol.Code}, nil
	}
	m := g.members[req.MemberID]
	switch g.state {
	case groupPreparingRebalance:
		return syncResult{err: kerr.RebalanceInProgress.Code}, nil
	case groupStable:
		return g.assigned(m), nil
	}
	now := time.Now()
	m.lastSeen = now
	if m.sync != nil {
		m.sync <- syncResult{err: kerr.RebalanceInProgress.Code}
		m.sync = nil
	}
	if req.MemberID != g.leader {
		m.sync = make(chan syncResult, 1)
		return syncResult{}, m.sync
	}
	for _, a := range req.GroupAssignment {
		if o := g.members[a.MemberID]; o != nil {
			o.assignment = a.MemberAssignment
		}
	}
	g.state = groupStable
	for _, o := range g.members {
		if o.sync != nil {
			o.sync <- g.assigned(o)
			o.sync, o.lastSeen = nil, now
		}
	}
	return g.assigned(m), nil
}

func (g *group) assigned(m *member) syncResult {
	return syncResult{ptype: g.protocolType, protocol: g.protocol, assignment: m.assignment}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
