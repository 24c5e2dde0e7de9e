package kafka

// CreateTopics, versions 0 to 7.
//
// Creates a stream per topic, capturing the subjects `T` and `T.>`, with
// the requested partitions (-1: 1) and the configurations of topics.go:
// cleanup.policy (delete or compact), retention.ms, retention.bytes and
// max.message.bytes. Another configuration is INVALID_CONFIG. The
// replication factor must be 1 or -1 (one broker); replica assignments
// are INVALID_REPLICA_ASSIGNMENT. ValidateOnly checks without creating.
// v5+ responses carry the partitions, replication factor 1 and the
// resulting configurations; v7 the topic ID derived from the name.
// A name with '.' is INVALID_TOPIC_EXCEPTION (see the package doc).

import (
	"fmt"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleCreateTopics(c *conn, req *kmsg.CreateTopicsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, rt := range req.Topics {
		resp.Topics = append(resp.Topics, c.createTopic(rt, req.ValidateOnly))
	}
	return resp, nil
}

func (c *conn) createTopic(rt kmsg.CreateTopicsRequestTopic, validateOnly bool) kmsg.CreateTopicsResponseTopic {
	t := kmsg.NewCreateTopicsResponseTopic()
	t.Topic = rt.Topic
	fail := func(code int16, msg string) kmsg.CreateTopicsResponseTopic {
		t.ErrorCode, t.ErrorMessage = code, &msg
		return t
	}
	cfg, code, msg := topicConfig(rt)
	if code != 0 {
		return fail(code, msg)
	}
	if validateOnly {
		if _, err := c.s.b.StreamInfo(rt.Topic); err == nil {
			return fail(kerr.TopicAlreadyExists.Code, fmt.Sprintf("topic %s already exists", rt.Topic))
		}
		return describeCreated(t, cfg)
	}
	in, err := c.s.b.CreateStream(cfg)
	if err != nil {
		return fail(errorCode(err), err.Error())
	}
	return describeCreated(t, in.Config)
}

// topicConfig builds the stream configuration a CreateTopics entry asks for.
func topicConfig(rt kmsg.CreateTopicsRequestTopic) (broker.StreamConfig, int16, string) {
	if why := checkTopic(rt.Topic); why != "" {
		return broker.StreamConfig{}, kerr.InvalidTopicException.Code, why
	}
	switch {
	case len(rt.ReplicaAssignment) > 0:
		return broker.StreamConfig{}, kerr.InvalidReplicaAssignment.Code, "replica assignments are not supported: Courier runs one broker"
	case rt.ReplicationFactor != -1 && rt.ReplicationFactor != 1:
		return broker.StreamConfig{}, kerr.InvalidReplicationFactor.Code, fmt.Sprintf("replication factor %d: Courier runs one broker, use 1 or -1", rt.ReplicationFactor)
	case rt.NumPartitions == 0 || rt.NumPartitions < -1 || rt.NumPartitions > broker.MaxPartitions:
		return broker.StreamConfig{}, kerr.InvalidPartitions.Code, fmt.Sprintf("partitions %d: use 1 to %d, or -1", rt.NumPartitions, broker.MaxPartitions)
	}
	cfg := broker.StreamConfig{Name: rt.Topic, Subjects: topicSubjects(rt.Topic), Partitions: max(int(rt.NumPartitions), 1)}
	for _, kv := range rt.Configs {
		if err := setTopicConfig(&cfg, kv.Name, kv.Value); err != nil {
			return cfg, kerr.InvalidConfig.Code, err.Error()
		}
	}
	return cfg, 0, ""
}

func describeCreated(t kmsg.CreateTopicsResponseTopic, cfg broker.StreamConfig) kmsg.CreateTopicsResponseTopic {
	t.TopicID = topicID(cfg.Name)
	t.NumPartitions, t.ReplicationFactor = int32(max(cfg.Partitions, 1)), 1
	for _, name := range topicConfigNames {
		v, isDefault := topicConfigValue(cfg, name)
		rc := kmsg.NewCreateTopicsResponseTopicConfig()
		rc.Name, rc.Value = name, &v
		rc.Source = int8(kmsg.ConfigSourceDynamicTopicConfig)
		if isDefault {
			rc.Source = int8(kmsg.ConfigSourceDefaultConfig)
		}
		t.Configs = append(t.Configs, rc)
	}
	return t
}
