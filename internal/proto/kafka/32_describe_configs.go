package kafka

// DescribeConfigs, versions 0 to 4.
//
// Topics: cleanup.policy, retention.ms, retention.bytes and
// max.message.bytes, from the stream's configuration (source
// DYNAMIC_TOPIC_CONFIG when set, DEFAULT_CONFIG otherwise), filtered by
// the requested names. Brokers (the name "0" or ""): no configurations.
// Other resource types are INVALID_REQUEST. No synonyms, documentation
// or sensitive values.

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleDescribeConfigs(c *conn, req *kmsg.DescribeConfigsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		resp.Resources = append(resp.Resources, c.describeConfigs(rr))
	}
	return resp, nil
}

func (c *conn) describeConfigs(rr kmsg.DescribeConfigsRequestResource) kmsg.DescribeConfigsResponseResource {
	r := kmsg.NewDescribeConfigsResponseResource()
	r.ResourceType, r.ResourceName = rr.ResourceType, rr.ResourceName
	switch rr.ResourceType {
	case kmsg.ConfigResourceTypeBroker:
		return r
	case kmsg.ConfigResourceTypeTopic:
	default:
		r.ErrorCode = kerr.InvalidRequest.Code
		msg := fmt.Sprintf("resource type %v is not supported", rr.ResourceType)
		r.ErrorMessage = &msg
		return r
	}
	if checkTopic(rr.ResourceName) != "" {
		r.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return r
	}
	in, err := c.s.b.StreamInfo(rr.ResourceName)
	if err != nil {
		r.ErrorCode, r.ErrorMessage = errorCode(err), errMessage(err)
		return r
	}
	for _, name := range topicConfigNames {
		if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, name) {
			continue
		}
		v, isDefault := topicConfigValue(in.Config, name)
		rc := kmsg.NewDescribeConfigsResponseResourceConfig()
		rc.Name, rc.Value, rc.IsDefault = name, &v, isDefault
		rc.Source = kmsg.ConfigSourceDynamicTopicConfig
		if isDefault {
			rc.Source = kmsg.ConfigSourceDefaultConfig
		}
		rc.ConfigType = configType(name)
		r.Configs = append(r.Configs, rc)
	}
	return r
}

func configType(name string) kmsg.ConfigType {
	switch name {
	case cfgCleanupPolicy:
		return kmsg.ConfigTypeList
	case cfgMaxMessage:
		return kmsg.ConfigTypeInt
	}
	return kmsg.ConfigTypeLong
}
