package client

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// StreamConfig configures a stream. Zero fields take the server's
// defaults.
type StreamConfig struct {
	Name               string
	Subjects           []string // subject patterns the stream captures
	Partitions         int      // 0: 1
	MaxAge             time.Duration
	MaxBytes           int64
	MaxMsgs            int64
	Discard            string // "old" (default: drop the oldest) or "new" (refuse new messages)
	Compact            bool   // keep the newest message per key
	TombstoneRetention time.Duration
	DedupWindow        time.Duration
	MaxMsgSize         int
	DefaultTTL         time.Duration
	Sync               string // "always" (default), "interval" or "none"
	SegmentBytes       int64
}

// PartitionInfo describes one partition of a stream.
type PartitionInfo struct {
	Partition     int
	StartOffset   int64
	HighWatermark int64 // the offset the next message gets
	Messages      int64
	Bytes         int64
	Segments      int
}

// StreamInfo is a stream's configuration and state.
type StreamInfo struct {
	Config     StreamConfig
	Partitions []PartitionInfo
}

// Messages returns the messages stored across partitions.
func (s StreamInfo) Messages() int64 {
	var n int64
	for _, p := range s.Partitions {
		n += p.Messages
	}
	return n
}

// GroupConfig configures a group. Zero fields take the server's defaults.
type GroupConfig struct {
	Name          string
	Stream        string
	Mode          string // "shared" (default), "keyed" or "exclusive"
	Filter        string // subject pattern; empty: every message
	Start         Start  // zero: earliest
	AckWait       time.Duration
	Backoff       []time.Duration // delay before delivery n+1 after a failed delivery n
	MaxDeliveries int
	DeadLetter    string // subject dead letters are published to
	MaxInFlight   int
	MaxPending    int
}

// GroupInfo is a group's configuration and state. Kind is "courier", or
// "kafka" for a Kafka consumer group's committed offsets (then only the
// name, the stream and Lag are set).
type GroupInfo struct {
	Config       GroupConfig
	Kind         string
	Members      int
	InFlight     int
	Lag          int64 // messages not yet settled (Kafka: committed), across partitions
	Delivered    int64
	Redelivered  int64
	DeadLettered int64
	Acked        int64
}

// PurgeOptions say what PurgeStream removes: everything (All), the
// messages of a subject or pattern (Subject), or the messages of
// Partition below UpTo.
type PurgeOptions struct {
	All       bool
	Subject   string
	Partition int
	UpTo      int64
}

// RedriveOptions select the dead letters Redrive moves: of one partition
// (nil: every partition), from FromOffset to ToOffset exclusive (0: up to
// the end).
type RedriveOptions struct {
	Partition  *int
	FromOffset int64
	ToOffset   int64
}

// RedriveResult counts the dead letters moved back to their subjects and
// those skipped.
type RedriveResult struct {
	Moved   int64
	Skipped int64
}

// CreateStream creates a stream.
func (c *Client) CreateStream(ctx context.Context, cfg StreamConfig) (StreamInfo, error) {
	res, err := unary(c, ctx, c.adm.CreateStream, &courierv1.CreateStreamRequest{Config: cfg.toProto()})
	if err != nil {
		return StreamInfo{}, err
	}
	return streamInfoFromProto(res.GetStream()), nil
}

// UpdateStream changes a stream's configuration.
func (c *Client) UpdateStream(ctx context.Context, cfg StreamConfig) (StreamInfo, error) {
	res, err := unary(c, ctx, c.adm.UpdateStream, &courierv1.UpdateStreamRequest{Config: cfg.toProto()})
	if err != nil {
		return StreamInfo{}, err
	}
	return streamInfoFromProto(res.GetStream()), nil
}

// DeleteStream deletes a stream and its messages.
func (c *Client) DeleteStream(ctx context.Context, name string) error {
	_, err := unary(c, ctx, c.adm.DeleteStream, &courierv1.DeleteStreamRequest{Name: name})
	return err
}

// Stream returns a stream's configuration and state.
func (c *Client) Stream(ctx context.Context, name string) (StreamInfo, error) {
	res, err := unary(c, ctx, c.adm.GetStream, &courierv1.GetStreamRequest{Name: name})
	if err != nil {
		return StreamInfo{}, err
	}
	return streamInfoFromProto(res.GetStream()), nil
}

// Streams lists every stream.
func (c *Client) Streams(ctx context.Context) ([]StreamInfo, error) {
	res, err := unary(c, ctx, c.adm.ListStreams, &courierv1.ListStreamsRequest{})
	if err != nil {
		return nil, err
	}
	out := make([]StreamInfo, len(res.GetStreams()))
	for i, s := range res.GetStreams() {
		out[i] = streamInfoFromProto(s)
	}
	return out, nil
}

// PurgeStream removes messages from a stream.
func (c *Client) PurgeStream(ctx context.Context, name string, o PurgeOptions) error {
	_, err := unary(c, ctx, c.adm.PurgeStream, &courierv1.PurgeStreamRequest{Name: name, All: o.All,
		Subject: o.Subject, Partition: int32(o.Partition), UpTo: o.UpTo})
	return err
}

// CompactStream runs a compaction pass on a compacted stream now and
// returns how many messages it removed.
func (c *Client) CompactStream(ctx context.Context, name string) (int64, error) {
	res, err := unary(c, ctx, c.adm.CompactStream, &courierv1.CompactStreamRequest{Name: name})
	if err != nil {
		return 0, err
	}
	return res.GetRemoved(), nil
}

// ReadMessages reads up to max stored messages (0: 100) of one partition
// from offset, without a group, and returns where the next read starts.
func (c *Client) ReadMessages(ctx context.Context, stream string, partition int, offset int64, max int) ([]*Message, int64, error) {
	res, err := unary(c, ctx, c.adm.ReadMessages, &courierv1.ReadMessagesRequest{Stream: stream,
		Partition: int32(partition), Offset: offset, MaxMessages: int32(max)})
	if err != nil {
		return nil, 0, err
	}
	out := make([]*Message, len(res.GetMessages()))
	for i, m := range res.GetMessages() {
		out[i] = messageFromProto(m)
	}
	return out, res.GetNextOffset(), nil
}

// CreateGroup creates a group on a stream.
func (c *Client) CreateGroup(ctx context.Context, cfg GroupConfig) (GroupInfo, error) {
	res, err := unary(c, ctx, c.adm.CreateGroup, &courierv1.CreateGroupRequest{Config: cfg.toProto()})
	if err != nil {
		return GroupInfo{}, err
	}
	return groupInfoFromProto(res.GetGroup()), nil
}

// DeleteGroup deletes a group.
func (c *Client) DeleteGroup(ctx context.Context, stream, name string) error {
	_, err := unary(c, ctx, c.adm.DeleteGroup, &courierv1.DeleteGroupRequest{Stream: stream, Name: name})
	return err
}

// Group returns a group's configuration and state.
func (c *Client) Group(ctx context.Context, stream, name string) (GroupInfo, error) {
	res, err := unary(c, ctx, c.adm.GetGroup, &courierv1.GetGroupRequest{Stream: stream, Name: name})
	if err != nil {
		return GroupInfo{}, err
	}
	return groupInfoFromProto(res.GetGroup()), nil
}

// Groups lists the groups of a stream ("": of every stream), Courier
// groups and Kafka consumer groups alike.
func (c *Client) Groups(ctx context.Context, stream string) ([]GroupInfo, error) {
	res, err := unary(c, ctx, c.adm.ListGroups, &courierv1.ListGroupsRequest{Stream: stream})
	if err != nil {
		return nil, err
	}
	out := make([]GroupInfo, len(res.GetGroups()))
	for i, g := range res.GetGroups() {
		out[i] = groupInfoFromProto(g)
	}
	return out, nil
}

// Redrive republishes the dead letters stored in stream (a dead-letter
// queue) to their original subjects and removes the moved ones.
func (c *Client) Redrive(ctx context.Context, stream string, o RedriveOptions) (RedriveResult, error) {
	req := &courierv1.RedriveRequest{Stream: stream, FromOffset: o.FromOffset, ToOffset: o.ToOffset}
	if o.Partition != nil {
		p := int32(*o.Partition)
		req.Partition = &p
	}
	res, err := unary(c, ctx, c.adm.Redrive, req)
	if err != nil {
		return RedriveResult{}, err
	}
	return RedriveResult{Moved: res.GetMoved(), Skipped: res.GetSkipped()}, nil
}

func (s StreamConfig) toProto() *courierv1.StreamConfig {
	return &courierv1.StreamConfig{
		Name: s.Name, Subjects: s.Subjects, Partitions: int32(s.Partitions),
		MaxAge: durationOrNil(s.MaxAge), MaxBytes: s.MaxBytes, MaxMsgs: s.MaxMsgs,
		Discard: s.Discard, Compact: s.Compact,
		TombstoneRetention: durationOrNil(s.TombstoneRetention),
		DedupWindow:        durationOrNil(s.DedupWindow),
		MaxMsgSize:         int32(s.MaxMsgSize), DefaultTtl: durationOrNil(s.DefaultTTL),
		Sync: s.Sync, SegmentBytes: s.SegmentBytes,
	}
}

func streamConfigFromProto(p *courierv1.StreamConfig) StreamConfig {
	return StreamConfig{
		Name: p.GetName(), Subjects: p.GetSubjects(), Partitions: int(p.GetPartitions()),
		MaxAge: durationOf(p.GetMaxAge()), MaxBytes: p.GetMaxBytes(), MaxMsgs: p.GetMaxMsgs(),
		Discard: p.GetDiscard(), Compact: p.GetCompact(),
		TombstoneRetention: durationOf(p.GetTombstoneRetention()),
		DedupWindow:        durationOf(p.GetDedupWindow()),
		MaxMsgSize:         int(p.GetMaxMsgSize()), DefaultTTL: durationOf(p.GetDefaultTtl()),
		Sync: p.GetSync(), SegmentBytes: p.GetSegmentBytes(),
	}
}

func streamInfoFromProto(p *courierv1.StreamInfo) StreamInfo {
	out := StreamInfo{Config: streamConfigFromProto(p.GetConfig())}
	for _, pp := range p.GetPartitions() {
		out.Partitions = append(out.Partitions, PartitionInfo{
			Partition: int(pp.GetPartition()), StartOffset: pp.GetStartOffset(),
			HighWatermark: pp.GetHighWatermark(), Messages: pp.GetMessages(),
			Bytes: pp.GetBytes(), Segments: int(pp.GetSegments()),
		})
	}
	return out
}

func (g GroupConfig) toProto() *courierv1.GroupConfig {
	p := &courierv1.GroupConfig{
		Name: g.Name, Stream: g.Stream, Mode: g.Mode, Filter: g.Filter,
		Start: g.Start.toProto(), AckWait: durationOrNil(g.AckWait),
		MaxDeliveries: int32(g.MaxDeliveries), DeadLetter: g.DeadLetter,
		MaxInFlight: int32(g.MaxInFlight), MaxPending: int32(g.MaxPending),
	}
	for _, d := range g.Backoff {
		p.Backoff = append(p.Backoff, durationpb.New(d))
	}
	return p
}

func groupConfigFromProto(p *courierv1.GroupConfig) GroupConfig {
	g := GroupConfig{
		Name: p.GetName(), Stream: p.GetStream(), Mode: p.GetMode(), Filter: p.GetFilter(),
		Start: startFromProto(p.GetStart()), AckWait: durationOf(p.GetAckWait()),
		MaxDeliveries: int(p.GetMaxDeliveries()), DeadLetter: p.GetDeadLetter(),
		MaxInFlight: int(p.GetMaxInFlight()), MaxPending: int(p.GetMaxPending()),
	}
	for _, d := range p.GetBackoff() {
		g.Backoff = append(g.Backoff, d.AsDuration())
	}
	return g
}

func groupInfoFromProto(p *courierv1.GroupInfo) GroupInfo {
	return GroupInfo{
		Config: groupConfigFromProto(p.GetConfig()), Kind: p.GetKind(),
		Members: int(p.GetMembers()), InFlight: int(p.GetInFlight()), Lag: p.GetLag(),
		Delivered: p.GetDelivered(), Redelivered: p.GetRedelivered(),
		DeadLettered: p.GetDeadLettered(), Acked: p.GetAcked(),
	}
}
