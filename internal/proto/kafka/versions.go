package kafka

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// api is one supported API key: its version range and its handler.
type api struct {
	key      int16
	min, max int16
	handle   func(*conn, kmsg.Request) (kmsg.Response, error)
}

// apis is the one version table: it drives request dispatch and the
// ApiVersions answer. Each handler's file says what its versions support.
//
// Produce starts at v3 and Fetch at v4 because older versions carry
// message sets v0/v1, while the log stores RecordBatch v2. Produce stops
// at v12 and Fetch at v12 because later versions name topics by ID.
var apis []api

func init() {
	apis = []api{
		reg(kmsg.Produce, 3, 12, handleProduce),
		reg(kmsg.Fetch, 4, 12, handleFetch),
		reg(kmsg.ListOffsets, 1, 6, handleListOffsets),
		reg(kmsg.Metadata, 0, 12, handleMetadata),
		reg(kmsg.OffsetCommit, 0, 8, handleOffsetCommit),
		reg(kmsg.OffsetFetch, 0, 8, handleOffsetFetch),
		reg(kmsg.FindCoordinator, 0, 4, handleFindCoordinator),
		reg(kmsg.JoinGroup, 0, 9, handleJoinGroup),
		reg(kmsg.Heartbeat, 0, 4, handleHeartbeat),
		reg(kmsg.LeaveGroup, 0, 5, handleLeaveGroup),
		reg(kmsg.SyncGroup, 0, 5, handleSyncGroup),
		reg(kmsg.DescribeGroups, 0, 5, handleDescribeGroups),
		reg(kmsg.ListGroups, 0, 5, handleListGroups),
		reg(kmsg.SASLHandshake, 0, 1, handleSaslHandshake),
		reg(kmsg.ApiVersions, 0, 4, handleApiVersions),
		reg(kmsg.CreateTopics, 0, 7, handleCreateTopics),
		reg(kmsg.DeleteTopics, 0, 6, handleDeleteTopics),
		reg(kmsg.DeleteGroups, 0, 2, handleDeleteGroups),
		reg(kmsg.InitProducerID, 0, 4, handleInitProducerID),
		reg(kmsg.DescribeConfigs, 0, 4, handleDescribeConfigs),
		reg(kmsg.SASLAuthenticate, 0, 2, handleSaslAuthenticate),
		reg(kmsg.OffsetDelete, 0, 0, handleOffsetDelete),
		reg(kmsg.CreatePartitions, 0, 3, handleCreatePartitions),
		reg(kmsg.IncrementalAlterConfigs, 0, 1, handleIncrementalAlterConfigs),
		reg(kmsg.DescribeCluster, 0, 1, handleDescribeCluster),
	}
	byKey = make(map[int16]*api, len(apis))
	for i := range apis {
		byKey[apis[i].key] = &apis[i]
	}
}

// byKey indexes apis by key.
var byKey map[int16]*api

func lookup(key int16) *api { return byKey[key] }

// reg makes a table entry whose handler takes the request's own type.
func reg[R kmsg.Request](key kmsg.Key, lo, hi int16, fn func(*conn, R) (kmsg.Response, error)) api {
	if kmsg.RequestForKey(int16(key)).MaxVersion() < hi {
		panic(fmt.Sprintf("kafka: %s v%d is newer than kmsg knows", key.Name(), hi))
	}
	return api{key: int16(key), min: lo, max: hi, handle: func(c *conn, r kmsg.Request) (kmsg.Response, error) {
		req, ok := r.(R)
		if !ok {
			return nil, closeErr("%s: unexpected request type %T", key.Name(), r)
		}
		return fn(c, req)
	}}
}
