package kafka

// OffsetDelete, version 0.
//
// Deletes a group's committed offsets for some partitions. A topic that a
// member of the group subscribes to (consumer protocol metadata) is
// GROUP_SUBSCRIBED_TO_TOPIC; a group with neither members nor commits is
// GROUP_ID_NOT_FOUND. Each named partition's commit is deleted on its
// own (the others are not touched), on the group's goroutine when it has
// one, so no commit of the group interleaves.

import (
	"github.com/courier-mq/courier/internal/broker"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleOffsetDelete(c *conn, req *kmsg.OffsetDeleteRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp, nil
	}
	if !c.s.groups.do(req.Group, false, func(g *group) { c.offsetDelete(req, resp, g.subscribed()) }) {
		c.offsetDelete(req, resp, nil)
	}
	return resp, nil
}

func (c *conn) offsetDelete(req *kmsg.OffsetDeleteRequest, resp *kmsg.OffsetDeleteResponse, subscribed map[string]bool) {
	cs, err := c.s.b.Committed(req.Group, "")
	switch {
	case err != nil:
		resp.ErrorCode = errorCode(err)
		return
	case len(cs) == 0 && subscribed == nil:
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return
	}
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetDeleteResponseTopic()
		t.Topic = rt.Topic
		code := int16(0)
		if subscribed[rt.Topic] {
			code = kerr.GroupSubscribedToTopic.Code
		} else {
			code = c.deleteTopicCommits(req.Group, rt, cs)
		}
		for _, rp := range rt.Partitions {
			p := kmsg.NewOffsetDeleteResponseTopicPartition()
			p.Partition, p.ErrorCode = rp.Partition, code
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
}

// deleteTopicCommits deletes the named partitions' commits of a topic,
// one partition at a time (the others stay as they are).
func (c *conn) deleteTopicCommits(group string, rt kmsg.OffsetDeleteRequestTopic, cs []broker.Commit) int16 {
	has := map[int]bool{}
	for _, cm := range cs {
		if cm.Stream == rt.Topic {
			has[cm.Partition] = true
		}
	}
	for _, rp := range rt.Partitions {
		if !has[int(rp.Partition)] {
			continue
		}
		if err := c.s.b.DeleteCommit(group, rt.Topic, int(rp.Partition)); err != nil {
			return errorCode(err)
		}
	}
	return 0
}

// subscribed returns the topics the members subscribe to (never nil).
func (g *group) subscribed() map[string]bool {
	out := map[string]bool{}
	if g.protocolType != "consumer" {
		return out
	}
	for _, m := range g.members {
		var md kmsg.ConsumerMemberMetadata
		if md.ReadFrom(m.metadata(g.protocol)) == nil {
			for _, t := range md.Topics {
				out[t] = true
			}
		}
	}
	return out
}
