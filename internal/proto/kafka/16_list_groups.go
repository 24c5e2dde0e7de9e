package kafka

// ListGroups, versions 0 to 5.
//
// Lists the groups with members or pending member ids, and the groups
// known only by committed offsets (Empty, protocol type ""). The states
// filter (v4) matches case-insensitively; the types filter (v5) matches
// "classic", the only group type.

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleListGroups(c *conn, req *kmsg.ListGroupsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if len(req.TypesFilter) > 0 && !slices.ContainsFunc(req.TypesFilter, func(t string) bool { return strings.EqualFold(t, "classic") }) {
		return resp, nil
	}
	seen := map[string]bool{}
	add := func(name, ptype string, state groupState) {
		seen[name] = true
		if len(req.StatesFilter) > 0 && !slices.ContainsFunc(req.StatesFilter, func(s string) bool { return strings.EqualFold(s, state.String()) }) {
			return
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = name, ptype, state.String(), "classic"
		resp.Groups = append(resp.Groups, lg)
	}
	for _, name := range c.s.groups.names() {
		var ptype string
		state := groupDead
		if c.s.groups.do(name, false, func(g *group) { ptype, state = g.protocolType, g.state }) {
			add(name, ptype, state)
		}
	}
	names, err := c.s.b.CommitGroups()
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp, nil
	}
	for _, name := range names {
		if !seen[name] {
			add(name, "", groupEmpty)
		}
	}
	return resp, nil
}
