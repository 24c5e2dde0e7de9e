package kafka

// IncrementalAlterConfigs, versions 0 to 1.
//
// Topics only: SET and DELETE (back to the default) of cleanup.policy,
// retention.ms, retention.bytes and max.message.bytes, applied with
// UpdateStream. APPEND and SUBTRACT, other configurations and other
// resource types are INVALID_CONFIG or INVALID_REQUEST; a resource's
// changes apply all or none. ValidateOnly checks without changing.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleIncrementalAlterConfigs(c *conn, req *kmsg.IncrementalAlterConfigsRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		r := kmsg.NewIncrementalAlterConfigsResponseResource()
		r.ResourceType, r.ResourceName = rr.ResourceType, rr.ResourceName
		if code, msg := c.alterConfigs(rr, req.ValidateOnly); code != 0 {
			r.ErrorCode, r.ErrorMessage = code, &msg
		}
		resp.Resources = append(resp.Resources, r)
	}
	return resp, nil
}

func (c *conn) alterConfigs(rr kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) (int16, string) {
	if rr.ResourceType != kmsg.ConfigResourceTypeTopic {
		return kerr.InvalidRequest.Code, fmt.Sprintf("resource type %v is not supported", rr.ResourceType)
	}
	if checkTopic(rr.ResourceName) != "" {
		return kerr.UnknownTopicOrPartition.Code, fmt.Sprintf("unknown topic %q", rr.ResourceName)
	}
	in, err := c.s.b.StreamInfo(rr.ResourceName)
	if err != nil {
		return errorCode(err), err.Error()
	}
	cfg := in.Config
	for _, rc := range rr.Configs {
		value := rc.Value
		switch rc.Op {
		case kmsg.IncrementalAlterConfigOpSet:
		case kmsg.IncrementalAlterConfigOpDelete:
			value = nil
		default:
			return kerr.InvalidConfig.Code, fmt.Sprintf("%s: operation %v is not supported", rc.Name, rc.Op)
		}
		if err := setTopicConfig(&cfg, rc.Name, value); err != nil {
			return kerr.InvalidConfig.Code, err.Error()
		}
	}
	if validateOnly {
		return 0, ""
	}
	if _, err := c.s.b.UpdateStream(cfg); err != nil {
		return errorCode(err), err.Error()
	}
	return 0, ""
}
