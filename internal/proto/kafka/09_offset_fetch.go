package kafka

// OffsetFetch, versions 0 to 8.
//
// Reads a group's committed offsets from the Backend, so they are the
// durable ones and survive restarts. A partition without a commit has
// offset -1. A null topic list (v2+) asks for every committed partition;
// v8 asks for several groups at once. Leader epochs are -1; RequireStable
// (v7) needs nothing: there are no transactions.

import (
	"slices"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleOffsetFetch(c *conn, req *kmsg.OffsetFetchRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			topics := make([]fetchTopic, 0, len(rg.Topics))
			for _, t := range rg.Topics {
				topics = append(topics, fetchTopic{t.Topic, t.Partitions})
			}
			if rg.Topics == nil {
				topics = nil
			}
			got, code := c.fetchOffsets(rg.Group, topics)
			g := kmsg.NewOffsetFetchResponseGroup()
			g.Group, g.ErrorCode = rg.Group, code
			for _, t := range got {
				gt := kmsg.NewOffsetFetchResponseGroupTopic()
				gt.Topic = t.Topic
				for _, p := range t.Partitions {
					gt.Partitions = append(gt.Partitions, kmsg.OffsetFetchResponseGroupTopicPartition{
						Partition: p.Partition, Offset: p.Offset, LeaderEpoch: -1, Metadata: p.Metadata})
				}
				g.Topics = append(g.Topics, gt)
			}
			resp.Groups = append(resp.Groups, g)
		}
		return resp, nil
	}
	var topics []fetchTopic
	for _, t := range req.Topics {
		topics = append(topics, fetchTopic{t.Topic, t.Partitions})
	}
	if req.Topics == nil && req.Version < 2 {
		topics = []fetchTopic{}
	}
	resp.Topics, resp.ErrorCode = c.fetchOffsets(req.Group, topics)
	if resp.Topics == nil {
		resp.Topics = []kmsg.OffsetFetchResponseTopic{}
	}
	return resp, nil
}

type fetchTopic struct {
	topic string
	parts []int32
}

// fetchOffsets answers one group; topics nil means all committed ones.
func (c *conn) fetchOffsets(group string, topics []fetchTopic) ([]kmsg.OffsetFetchResponseTopic, int16) {
	cs, err := c.s.b.Committed(group, "")
	if err != nil {
		return nil, errorCode(err)
	}
	if topics == nil {
		return committedTopics(cs), 0
	}
	at := map[string]map[int32]broker.Commit{}
	for _, cm := range cs {
		if at[cm.Stream] == nil {
			at[cm.Stream] = map[int32]broker.Commit{}
		}
		at[cm.Stream][int32(cm.Partition)] = cm
	}
	var out []kmsg.OffsetFetchResponseTopic
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.topic
		for _, p := range t.parts {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = p, -1, -1
			md := ""
			if cm, ok := at[t.topic][p]; ok {
				rp.Offset, md = cm.Offset, cm.Metadata
			}
			rp.Metadata = &md
			rt.Partitions = append(rt.Partitions, rp)
		}
		out = append(out, rt)
	}
	return out, 0
}

func committedTopics(cs []broker.Commit) []kmsg.OffsetFetchResponseTopic {
	slices.SortFunc(cs, func(a, b broker.Commit) int {
		if a.Stream != b.Stream {
			return cmpString(a.Stream, b.Stream)
		}
		return a.Partition - b.Partition
	})
	var out []kmsg.OffsetFetchResponseTopic
	for _, cm := range cs {
		if len(out) == 0 || out[len(out)-1].Topic != cm.Stream {
			t := kmsg.NewOffsetFetchResponseTopic()
			t.Topic = cm.Stream
			out = append(out, t)
		}
		rp := kmsg.NewOffsetFetchResponseTopicPartition()
		md := cm.Metadata
		rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata = int32(cm.Partition), cm.Offset, -1, &md
		out[len(out)-1].Partitions = append(out[len(out)-1].Partitions, rp)
	}
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
