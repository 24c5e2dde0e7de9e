package kafka

// LeaveGroup, versions 0 to 5.
//
// Removes members at once (v0-v2 one member id; v3+ a batch, each by
// member id or by instance id) and rebalances the rest. A member not in
// the group gets UNKNOWN_MEMBER_ID (v3+ per member; v0-v2 for the
// request); a static member named by instance id with another member id,
// FENCED_INSTANCE_ID. Reason (v5) is ignored.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleLeaveGroup(c *conn, req *kmsg.LeaveGroupRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	codes := make([]int16, len(leaving))
	for i := range codes {
		codes[i] = kerr.UnknownMemberID.Code
	}
	c.s.groups.do(req.Group, false, func(g *group) {
		for i, lm := range leaving {
			codes[i] = g.leave(lm.MemberID, deref(lm.InstanceID))
		}
	})
	if req.Version < 3 {
		resp.ErrorCode = codes[0]
		return resp, nil
	}
	for i, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = lm.MemberID, lm.InstanceID, codes[i]
		resp.Members = append(resp.Members, rm)
	}
	return resp, nil
}

// leave runs on the group's goroutine.
func (g *group) leave(memberID, instanceID string) int16 {
	if instanceID != "" {
		id, ok := g.static[instanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID.Code
		case memberID != "" && id != memberID:
			return kerr.FencedInstanceID.Code
		}
		memberID = id
	}
	m := g.members[memberID]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	g.remove(m)
	return 0
}
