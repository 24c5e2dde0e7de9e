package kafka

// Metadata, versions 0 to 12.
//
// One broker, node 0, which is also the controller and leads every
// partition (leader epoch 0, replicas and ISR [0]). Its address is
// Options.AdvertisedAddr, or the local address of the connection. The
// cluster ID is "courier". Topics are the streams; a null topic list (an
// empty one in v0) asks for all of them. An unknown topic is
// UNKNOWN_TOPIC_OR_PARTITION unless Options.AutoCreateTopics is set and
// the request allows creation (always in v0-v3): it is then created with
// one partition. A name that cannot be a stream is INVALID_TOPIC_EXCEPTION.
// Topic IDs are derived from names; requests by topic ID are not
// supported (UNKNOWN_TOPIC_ID). Authorized operations are not computed.

import (
	"net"
	"strconv"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	nodeID    = 0
	clusterID = "courier"
)

func handleMetadata(c *conn, req *kmsg.MetadataRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	host, port := c.advertised()
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = nodeID, host, port
	resp.Brokers = []kmsg.MetadataResponseBroker{b}
	cid := clusterID
	resp.ClusterID = &cid
	resp.ControllerID = nodeID
	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		for _, in := range c.s.b.Streams() {
			resp.Topics = append(resp.Topics, topicMetadata(in))
		}
		return resp, nil
	}
	create := c.s.opts.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, t := range req.Topics {
		resp.Topics = append(resp.Topics, c.describeTopic(t, create))
	}
	return resp, nil
}

// describeTopic answers one requested topic, creating it if allowed.
func (c *conn) describeTopic(t kmsg.MetadataRequestTopic, create bool) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	if t.Topic == nil {
		mt.TopicID = t.TopicID
		mt.ErrorCode = kerr.UnknownTopicID.Code
		return mt
	}
	mt.Topic = t.Topic
	name := *t.Topic
	if checkTopic(name) != "" {
		mt.ErrorCode = kerr.InvalidTopicException.Code
		return mt
	}
	in, err := c.s.b.StreamInfo(name)
	if err != nil && create {
		in, err = c.s.b.CreateStream(broker.StreamConfig{Name: name, Subjects: topicSubjects(name), Partitions: 1})
		if err != nil {
			c.s.log.Info("kafka: auto-create topic", "topic", name, "err", err)
			in, err = c.s.b.StreamInfo(name) // created concurrently?
		}
	}
	if err != nil {
		mt.ErrorCode = errorCode(err)
		return mt
	}
	return topicMetadata(in)
}

func topicMetadata(in broker.StreamInfo) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := in.Config.Name
	mt.Topic = &name
	mt.TopicID = topicID(name)
	for i := range in.Partitions {
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition = int32(i)
		p.Leader, p.LeaderEpoch = nodeID, 0
		p.Replicas, p.ISR = []int32{nodeID}, []int32{nodeID}
		mt.Partitions = append(mt.Partitions, p)
	}
	return mt
}

// advertised returns the host and port clients should connect to.
func (c *conn) advertised() (string, int32) {
	addr := c.s.opts.AdvertisedAddr
	if addr == "" {
		addr = c.nc.LocalAddr().String()
	}
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 9092
	}
	port, _ := strconv.Atoi(ps)
	return host, int32(port)
}
