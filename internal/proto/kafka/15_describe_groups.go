package kafka

// DescribeGroups, versions 0 to 5.
//
// A group with members reports its state, protocol type and protocol, and
// each member's client id, host, metadata for the chosen protocol and
// assignment. A group known only by its committed offsets is Empty; any
// other is Dead (error NONE, as Kafka answers before v6). Authorized
// operations are not computed.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleDescribeGroups(c *conn, req *kmsg.DescribeGroupsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, name := range req.Groups {
		resp.Groups = append(resp.Groups, c.describeGroup(name))
	}
	return resp, nil
}

func (c *conn) describeGroup(name string) kmsg.DescribeGroupsResponseGroup {
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group, d.AuthorizedOperations = name, -2147483648
	if name == "" {
		d.ErrorCode = kerr.InvalidGroupID.Code
		return d
	}
	if c.s.groups.do(name, false, func(g *group) { g.describe(&d) }) {
		return d
	}
	d.State = groupDead.String()
	if cs, err := c.s.b.Committed(name, ""); err != nil {
		d.ErrorCode = errorCode(err)
	} else if len(cs) > 0 {
		d.State = groupEmpty.String()
	}
	return d
}

// describe runs on the group's goroutine.
func (g *group) describe(d *kmsg.DescribeGroupsResponseGroup) {
	d.State, d.ProtocolType, d.Protocol = g.state.String(), g.protocolType, g.protocol
	for _, id := range g.memberIDs() {
		m := g.members[id]
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID, dm.ClientID, dm.ClientHost = m.id, m.clientID, m.host
		if m.instanceID != "" {
			dm.InstanceID = &m.instanceID
		}
		dm.ProtocolMetadata = m.metadata(g.protocol)
		dm.MemberAssignment = m.assignment
		if g.state != groupStable {
			dm.MemberAssignment = nil
		}
		if dm.ProtocolMetadata == nil {
			dm.ProtocolMetadata = []byte{}
		}
		if dm.MemberAssignment == nil {
			dm.MemberAssignment = []byte{}
		}
		d.Members = append(d.Members, dm)
	}
}
