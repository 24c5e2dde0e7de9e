package api

import (
	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

func toStreamConfig(c *courierv1.StreamConfig) broker.StreamConfig {
	return broker.StreamConfig{
		Name:               c.GetName(),
		Subjects:           c.GetSubjects(),
		Partitions:         int(c.GetPartitions()),
		MaxAge:             duration(c.GetMaxAge()),
		MaxBytes:           c.GetMaxBytes(),
		MaxMsgs:            c.GetMaxMsgs(),
		Discard:            broker.Discard(c.GetDiscard()),
		Compact:            c.GetCompact(),
		TombstoneRetention: duration(c.GetTombstoneRetention()),
		DedupWindow:        duration(c.GetDedupWindow()),
		MaxMsgSize:         int(c.GetMaxMsgSize()),
		DefaultTTL:         duration(c.GetDefaultTtl()),
		Sync:               c.GetSync(),
		SegmentBytes:       c.GetSegmentBytes(),
	}
}

func fromStreamConfig(c broker.StreamConfig) *courierv1.StreamConfig {
	return &courierv1.StreamConfig{
		Name:               c.Name,
		Subjects:           c.Subjects,
		Partitions:         int32(c.Partitions),
		MaxAge:             durationOrNil(c.MaxAge),
		MaxBytes:           c.MaxBytes,
		MaxMsgs:            c.MaxMsgs,
		Discard:            string(c.Discard),
		Compact:            c.Compact,
		TombstoneRetention: durationOrNil(c.TombstoneRetention),
		DedupWindow:        durationOrNil(c.DedupWindow),
		MaxMsgSize:         int32(c.MaxMsgSize),
		DefaultTtl:         durationOrNil(c.DefaultTTL),
		Sync:               c.Sync,
		SegmentBytes:       c.SegmentBytes,
	}
}

func fromStreamInfo(si broker.StreamInfo) *courierv1.StreamInfo {
	out := &courierv1.StreamInfo{Config: fromStreamConfig(si.Config)}
	for _, p := range si.Partitions {
		out.Partitions = append(out.Partitions, &courierv1.PartitionInfo{
			Partition:     int32(p.Partition),
			StartOffset:   p.StartOffset,
			HighWatermark: p.HighWatermark,
			Messages:      p.Messages,
			Bytes:         p.Bytes,
			Segments:      int32(p.Segments),
		})
	}
	return out
}

func toGroupConfig(c *courierv1.GroupConfig) broker.GroupConfig {
	out := broker.GroupConfig{
		Name:          c.GetName(),
		Stream:        c.GetStream(),
		Mode:          broker.GroupMode(c.GetMode()),
		Filter:        c.GetFilter(),
		Start:         toStartKind(c.GetStart(), broker.StartEarliest), // resume positions are for subscriptions
		AckWait:       duration(c.GetAckWait()),
		MaxDeliveries: int(c.GetMaxDeliveries()),
		DeadLetter:    c.GetDeadLetter(),
		MaxInFlight:   int(c.GetMaxInFlight()),
		MaxPending:    int(c.GetMaxPending()),
	}
	for _, d := range c.GetBackoff() {
		out.Backoff = append(out.Backoff, d.AsDuration())
	}
	return out
}

func fromGroupConfig(c broker.GroupConfig) *courierv1.GroupConfig {
	out := &courierv1.GroupConfig{
		Name:          c.Name,
		Stream:        c.Stream,
		Mode:          string(c.Mode),
		Filter:        c.Filter,
		Start:         fromStart(c.Start),
		AckWait:       durationOrNil(c.AckWait),
		MaxDeliveries: int32(c.MaxDeliveries),
		DeadLetter:    c.DeadLetter,
		MaxInFlight:   int32(c.MaxInFlight),
		MaxPending:    int32(c.MaxPending),
	}
	for _, d := range c.Backoff {
		out.Backoff = append(out.Backoff, durationpb.New(d))
	}
	return out
}

func fromGroupInfo(gi broker.GroupInfo) *courierv1.GroupInfo {
	return &courierv1.GroupInfo{
		Config:       fromGroupConfig(gi.Config),
		Kind:         "courier",
		Members:      int32(gi.Members),
		InFlight:     int32(gi.InFlight),
		Lag:          gi.Lag,
		Delivered:    gi.Delivered,
		Redelivered:  gi.Redelivered,
		DeadLettered: gi.DeadLettered,
		Acked:        gi.Acked,
	}
}
