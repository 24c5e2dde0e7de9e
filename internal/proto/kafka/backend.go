package kafka

import (
	"context"

	"github.com/courier-mq/courier/internal/broker"
)

// Backend is what the Kafka front-end needs from the broker core. A
// *server.Server (and a *broker.Broker) satisfies it.
type Backend interface {
	// Offset-level access to a stream partition.
	// AppendBatchAsync assigns a batch its offsets and copies it; the
	// returned wait returns once the batch is durable.
	AppendBatchAsync(stream string, part int, batch []byte) (int64, func(context.Context) error, error)
	ReadPartition(stream string, part int, buf []byte, offset int64, maxBytes int) (broker.Chunk, error)
	ScanPartition(stream string, part int, buf []byte, offset int64, maxBytes int) (broker.Chunk, error) // not counted as delivered
	WaitPartition(ctx context.Context, stream string, part int, offset int64) error
	PartitionOffsets(stream string, part int) (start, hw int64, err error)
	OffsetForTime(stream string, part int, ts int64) (int64, error)

	// Streams, which are the topics.
	CreateStream(cfg broker.StreamConfig) (broker.StreamInfo, error)
	UpdateStream(cfg broker.StreamConfig) (broker.StreamInfo, error)
	DeleteStream(name string) error
	StreamInfo(name string) (broker.StreamInfo, error)
	Streams() []broker.StreamInfo

	// Durable committed offsets of consumer groups.
	CommitOffsets(cs []broker.Commit) error
	Committed(group, stream string) ([]broker.Commit, error)
	DeleteCommits(group, stream string) error
	DeleteCommit(group, stream string, part int) error

	// Admin.
	Compact(ctx context.Context, stream string) (int64, error)
	CommitGroups() ([]string, error)
}

var _ Backend = (*broker.Broker)(nil)
