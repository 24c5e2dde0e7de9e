package kafka

// CreatePartitions, versions 0 to 3.
//
// Grows a topic's stream to Count partitions (UpdateStream). A count that
// does not grow is INVALID_PARTITIONS; assignments are
// INVALID_REPLICA_ASSIGNMENT. ValidateOnly checks without changing. Keys
// then map to other partitions, as in Kafka.

import (
	"fmt"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleCreatePartitions(c *conn, req *kmsg.CreatePartitionsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewCreatePartitionsResponseTopic()
		t.Topic = rt.Topic
		if code, msg := c.createPartitions(rt, req.ValidateOnly); code != 0 {
			t.ErrorCode, t.ErrorMessage = code, &msg
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}

func (c *conn) createPartitions(rt kmsg.CreatePartitionsRequestTopic, validateOnly bool) (int16, string) {
	if checkTopic(rt.Topic) != "" {
		return kerr.UnknownTopicOrPartition.Code, fmt.Sprintf("unknown topic %q", rt.Topic)
	}
	if len(rt.Assignment) > 0 {
		return kerr.InvalidReplicaAssignment.Code, "replica assignments are not supported: Courier runs one broker"
	}
	in, err := c.s.b.StreamInfo(rt.Topic)
	if err != nil {
		return errorCode(err), err.Error()
	}
	if int(rt.Count) <= len(in.Partitions) || rt.Count > broker.MaxPartitions {
		return kerr.InvalidPartitions.Code, fmt.Sprintf("topic %s has %d partitions; the new count must be more, up to %d", rt.Topic, len(in.Partitions), broker.MaxPartitions)
	}
	if validateOnly {
		return 0, ""
	}
	cfg := in.Config
	cfg.Partitions = int(rt.Count)
	if _, err := c.s.b.UpdateStream(cfg); err != nil {
		return errorCode(err), err.Error()
	}
	return 0, ""
}
