package kafka

// DeleteTopics, versions 0 to 6.
//
// Deletes the stream of each topic and its data. A stream that has groups
// is refused (POLICY_VIOLATION): delete its groups first. Topics named by
// ID alone (v6) are UNKNOWN_TOPIC_ID.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleDeleteTopics(c *conn, req *kmsg.DeleteTopicsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	topics := req.Topics
	if req.Version < 6 {
		topics = nil
		for _, name := range req.TopicNames {
			t := kmsg.NewDeleteTopicsRequestTopic()
			t.Topic = &name
			topics = append(topics, t)
		}
	}
	for _, rt := range topics {
		t := kmsg.NewDeleteTopicsResponseTopic()
		t.Topic, t.TopicID = rt.Topic, rt.TopicID
		switch {
		case rt.Topic == nil:
			t.ErrorCode = kerr.UnknownTopicID.Code
		case checkTopic(*rt.Topic) != "":
			t.ErrorCode = kerr.UnknownTopicOrPartition.Code
		default:
			if err := c.s.b.DeleteStream(*rt.Topic); err != nil {
				t.ErrorCode, t.ErrorMessage = errorCode(err), errMessage(err)
			}
			t.TopicID = topicID(*rt.Topic)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}
