package kafka

// DeleteGroups, versions 0 to 2.
//
// Deletes an empty group: its committed offsets and its coordinator
// state. A group with members is NON_EMPTY_GROUP; a group neither in the
// coordinator nor with commits is GROUP_ID_NOT_FOUND.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleDeleteGroups(c *conn, req *kmsg.DeleteGroupsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, name := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group, rg.ErrorCode = name, c.deleteGroup(name)
		resp.Groups = append(resp.Groups, rg)
	}
	return resp, nil
}

func (c *conn) deleteGroup(name string) int16 {
	if name == "" {
		return kerr.InvalidGroupID.Code
	}
	code := int16(-1)
	c.s.groups.do(name, false, func(g *group) {
		if len(g.members) > 0 {
			code = kerr.NonEmptyGroup.Code
			return
		}
		g.state = groupDead
		code = errorCode(c.s.b.DeleteCommits(name, ""))
	})
	if code >= 0 {
		return code
	}
	cs, err := c.s.b.Committed(name, "")
	switch {
	case err != nil:
		return errorCode(err)
	case len(cs) == 0:
		return kerr.GroupIDNotFound.Code
	}
	return errorCode(c.s.b.DeleteCommits(name, ""))
}
