package broker

import (
	"fmt"
	"regexp"
	"time"

	"github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/subject"
)

// Discard says what a stream does when a retention limit is reached.
type Discard string

const (
	DiscardOld Discard = "old" // remove the oldest segments (the default)
	DiscardNew Discard = "new" // refuse new messages with ErrStreamFull
)

// StreamConfig describes a stream. Limits apply per partition.
type StreamConfig struct {
	Name               string        `json:"name"`
	Subjects           []string      `json:"subjects"` // patterns it captures
	Partitions         int           `json:"partitions"`
	MaxAge             time.Duration `json:"max_age,omitempty"`
	MaxBytes           int64         `json:"max_bytes,omitempty"`
	MaxMsgs            int64         `json:"max_msgs,omitempty"`
	Discard            Discard       `json:"discard,omitempty"`
	Compact            bool          `json:"compact,omitempty"`
	TombstoneRetention time.Duration `json:"tombstone_retention,omitempty"`
	DedupWindow        time.Duration `json:"dedup_window,omitempty"`
	MaxMsgSize         int           `json:"max_msg_size,omitempty"`
	DefaultTTL         time.Duration `json:"default_ttl,omitempty"`
	Sync               string        `json:"sync,omitempty"` // always (default), interval, none
	SegmentBytes       int64         `json:"segment_bytes,omitempty"`
}

// Default limits.
const (
	DefaultMaxMsgSize  = 1 << 20
	DefaultDedupWindow = 2 * time.Minute
	MaxHeaders         = 128
	MaxHeaderBytes     = 64 << 10
	MaxPartitions      = 1024
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func validName(kind, n string) error {
	if !nameRE.MatchString(n) {
		return invalid("%s name %q: use 1 to 128 letters, digits, '_' or '-'", kind, n)
	}
	return nil
}

// normalize checks c and fills defaults.
func (c *StreamConfig) normalize() error {
	if err := validName("stream", c.Name); err != nil {
		return err
	}
	if len(c.Subjects) == 0 {
		c.Subjects = []string{c.Name}
	}
	for _, p := range c.Subjects {
		if err := subject.ValidatePattern(p); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if c.Partitions == 0 {
		c.Partitions = 1
	}
	if c.Partitions < 1 || c.Partitions > MaxPartitions {
		return invalid("partitions %d: must be 1 to %d", c.Partitions, MaxPartitions)
	}
	if c.Discard == "" {
		c.Discard = DiscardOld
	}
	if c.Discard != DiscardOld && c.Discard != DiscardNew {
		return invalid("discard %q: must be old or new", c.Discard)
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = DefaultDedupWindow
	}
	if c.MaxMsgSize == 0 {
		c.MaxMsgSize = DefaultMaxMsgSize
	}
	if _, err := c.syncPolicy(); err != nil {
		return err
	}
	if c.MaxAge < 0 || c.MaxBytes < 0 || c.MaxMsgs < 0 || c.DedupWindow < 0 || c.MaxMsgSize < 0 || c.DefaultTTL < 0 {
		return invalid("stream %s: limits must not be negative", c.Name)
	}
	return nil
}

func (c *StreamConfig) syncPolicy() (log.SyncPolicy, error) {
	switch c.Sync {
	case "", "always":
		return log.SyncAlways, nil
	case "interval":
		return log.SyncInterval, nil
	case "none":
		return log.SyncNone, nil
	}
	return 0, invalid("sync %q: must be always, interval or none", c.Sync)
}

// logOptions derives a partition log's options from the stream config.
func (c *StreamConfig) logOptions(base log.Options) log.Options {
	o := base
	o.Sync, _ = c.syncPolicy()
	if c.SegmentBytes > 0 {
		o.MaxSegmentBytes = c.SegmentBytes
	}
	o.MaxBatchBytes = c.MaxMsgSize + MaxHeaderBytes + 1024
	o.Retention = log.Retention{MaxAge: c.MaxAge}
	if c.Discard == DiscardOld {
		o.Retention.MaxBytes, o.Retention.MaxRecords = c.MaxBytes, c.MaxMsgs
	}
	o.Compaction = log.Compaction{Enabled: c.Compact, TombstoneRetention: c.TombstoneRetention}
	return o
}

// GroupMode is how a group spreads messages over its members.
type GroupMode string

const (
	Shared    GroupMode = "shared"    // competing consumers
	Keyed     GroupMode = "keyed"     // each key sticks to one member, in order
	Exclusive GroupMode = "exclusive" // one active member, the others stand by
)

// StartKind says where a new group (or subscription) begins.
type StartKind string

const (
	StartEarliest StartKind = "earliest"
	StartLatest   StartKind = "latest"
	StartOffset   StartKind = "offset" // the same offset in every partition
	StartTime     StartKind = "time"
	StartLastN    StartKind = "last" // the newest N of each partition (subscriptions)
)

// Start is a start position.
type Start struct {
	Kind   StartKind `json:"kind"`
	Offset int64     `json:"offset,omitempty"`
	Time   time.Time `json:"time,omitzero"`
	N      int64     `json:"n,omitempty"`
	// Resume gives some partitions their own next offset, overriding the
	// position above (subscriptions only: a client resuming after a
	// reconnect, each partition after the last message it got).
	Resume map[PartitionRef]int64 `json:"-"`
}

// PartitionRef names one partition of a stream.
type PartitionRef struct {
	Stream    string
	Partition int
}

func (s Start) validate() error {
	switch s.Kind {
	case "", StartEarliest, StartLatest, StartOffset, StartTime, StartLastN:
		return nil
	}
	return invalid("start %q: must be earliest, latest, offset, time or last", s.Kind)
}

// GroupConfig describes a durable consumer group over a stream.
type GroupConfig struct {
	Name   string    `json:"name"`
	Stream string    `json:"stream"`
	Mode   GroupMode `json:"mode"`
	Filter string    `json:"filter,omitempty"` // subject pattern; "" = every message
	// Filters are more patterns: a message is taken when it matches
	// Filter or any of them (group_filters.go; added for AMQP bindings).
	Filters       []string        `json:"filters,omitempty"`
	Start         Start           `json:"start"`
	AckWait       time.Duration   `json:"ack_wait"`
	Backoff       []time.Duration `json:"backoff,omitempty"` // delay before delivery n+1 after a failed delivery n
	MaxDeliveries int             `json:"max_deliveries,omitempty"`
	DeadLetter    string          `json:"dead_letter,omitempty"` // subject
	MaxInFlight   int             `json:"max_in_flight"`         // per member
	MaxPending    int             `json:"max_pending"`           // read-ahead bound per partition
}

// Group defaults.
const (
	DefaultAckWait     = 30 * time.Second
	DefaultMaxInFlight = 256
	DefaultMaxPending  = 4096
)

func (c *GroupConfig) normalize() error {
	if err := validName("group", c.Name); err != nil {
		return err
	}
	if c.Mode == "" {
		c.Mode = Shared
	}
	if c.Mode != Shared && c.Mode != Keyed && c.Mode != Exclusive {
		return invalid("mode %q: must be shared, keyed or exclusive", c.Mode)
	}
	if c.Filter != "" {
		if err := subject.ValidatePattern(c.Filter); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if err := c.validateFilters(); err != nil { // group_filters.go
		return err
	}
	if c.DeadLetter != "" {
		if err := subject.ValidateSubject(c.DeadLetter); err != nil {
			return fmt.Errorf("%w: dead letter: %w", ErrInvalid, err)
		}
	}
	if c.Start.Kind == "" {
		c.Start.Kind = StartEarliest
	}
	if err := c.Start.validate(); err != nil {
		return err
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.AckWait < 0 || c.MaxInFlight < 0 || c.MaxDeliveries < 0 || c.MaxPending < 0 {
		return invalid("group %s: limits must not be negative", c.Name)
	}
	for _, d := range c.Backoff {
		if d < 0 {
			return invalid("group %s: backoff %v is negative", c.Name, d)
		}
	}
	return nil
}

// backoff returns the delay before redelivering a message that has been
// delivered n times.
func (c *GroupConfig) backoff(n int) time.Duration {
	if len(c.Backoff) == 0 {
		return 0
	}
	return c.Backoff[min(n-1, len(c.Backoff)-1)]
}
