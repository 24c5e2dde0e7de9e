package kafka

// OffsetCommit, versions 0 to 8.
//
// Offsets are stored durably through the Backend (CommitOffsets), all of
// a request's valid partitions at once. A group with members checks the
// committer on its goroutine: unknown member UNKNOWN_MEMBER_ID, another
// generation ILLEGAL_GENERATION, while the group completes a rebalance
// REBALANCE_IN_PROGRESS (during the join phase the previous generation
// may still commit, as eager consumers do when revoking). Generation -1
// with no member id (and every v0 request) is a commit by a client that
// manages its own partitions, accepted while the group has no members. A
// group name that is empty or over 255 bytes (the Backend's bound) is
// INVALID_GROUP_ID, in JoinGroup too. A partition the topic lacks is
// UNKNOWN_TOPIC_OR_PARTITION; metadata over 4096 bytes
// OFFSET_METADATA_TOO_LARGE. Retention (v2-v4), the commit timestamp (v1)
// and leader epochs are ignored; commits never expire.

import (
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const maxCommitMetadata = 4096

// maxGroupName bounds a group name, as the Backend's commits do.
const maxGroupName = 255

func validGroup(name string) bool { return name != "" && len(name) <= maxGroupName }

func handleOffsetCommit(c *conn, req *kmsg.OffsetCommitRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	if req.Version == 0 {
		req.Generation, req.MemberID = -1, ""
	}
	simple := req.Generation < 0 && req.MemberID == ""
	code := int16(0)
	switch {
	case !validGroup(req.Group):
		code = kerr.InvalidGroupID.Code
	case !c.s.groups.do(req.Group, false, func(g *group) { code = g.commit(req, simple, resp) }):
		if simple {
			c.s.commit(req, resp)
		} else {
			code = kerr.UnknownMemberID.Code
		}
	}
	if code != 0 {
		resp.Topics = nil
		for _, rt := range req.Topics {
			t := kmsg.NewOffsetCommitResponseTopic()
			t.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				p := kmsg.NewOffsetCommitResponseTopicPartition()
				p.Partition, p.ErrorCode = rp.Partition, code
				t.Partitions = append(t.Partitions, p)
			}
			resp.Topics = append(resp.Topics, t)
		}
	}
	return resp, nil
}

// commit checks the committer and stores; runs on the group's goroutine.
func (g *group) commit(req *kmsg.OffsetCommitRequest, simple bool, resp *kmsg.OffsetCommitResponse) int16 {
	switch {
	case simple && g.state == groupEmpty:
	case g.state == groupCompletingRebalance:
		return kerr.RebalanceInProgress.Code
	default:
		if code := g.check(req.MemberID, deref(req.InstanceID), req.Generation); code != 0 {
			return code
		}
		g.members[req.MemberID].lastSeen = time.Now()
	}
	g.c.s.commit(req, resp)
	return 0
}

// commit stores a request's offsets and fills the response.
func (s *Server) commit(req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse) {
	var cs []broker.Commit
	var stored []*kmsg.OffsetCommitResponseTopicPartition
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetCommitResponseTopic()
		t.Topic = rt.Topic
		info, err := s.b.StreamInfo(rt.Topic)
		for _, rp := range rt.Partitions {
			p := kmsg.NewOffsetCommitResponseTopicPartition()
			p.Partition = rp.Partition
			switch {
			case checkTopic(rt.Topic) != "" || err != nil || rp.Partition < 0 || int(rp.Partition) >= len(info.Partitions):
				p.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.Metadata != nil && len(*rp.Metadata) > maxCommitMetadata:
				p.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				cs = append(cs, broker.Commit{Group: req.Group, Stream: rt.Topic, Partition: int(rp.Partition),
					Offset: rp.Offset, Metadata: deref(rp.Metadata)})
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			if p := &resp.Topics[i].Partitions[j]; p.ErrorCode == 0 {
				stored = append(stored, p)
			}
		}
	}
	if len(cs) == 0 {
		return
	}
	if err := s.b.CommitOffsets(cs); err != nil {
		for _, p := range stored {
			p.ErrorCode = errorCode(err)
		}
	}
}
