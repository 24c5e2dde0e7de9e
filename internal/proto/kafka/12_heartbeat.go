package kafka

// Heartbeat, versions 0 to 4.
//
// Keeps a member's session alive. Unknown member (or a group without
// members): UNKNOWN_MEMBER_ID; another generation: ILLEGAL_GENERATION;
// during a join phase: REBALANCE_IN_PROGRESS, which tells the member to
// rejoin. A static member's superseded incarnation: FENCED_INSTANCE_ID.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleHeartbeat(c *conn, req *kmsg.HeartbeatRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.ErrorCode = kerr.UnknownMemberID.Code
	c.s.groups.do(req.Group, false, func(g *group) {
		resp.ErrorCode = g.check(req.MemberID, deref(req.InstanceID), req.Generation)
		if resp.ErrorCode != 0 {
			return
		}
		g.members[req.MemberID].lastSeen = time.Now()
		if g.state == groupPreparingRebalance {
			resp.ErrorCode = kerr.RebalanceInProgress.Code
		}
	})
	return resp, nil
}
