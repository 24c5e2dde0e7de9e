package server

import "github.com/courier-mq/courier/internal/broker"

// The broker's types, for embedding programs.
type (
	Message              = broker.Message
	Header               = broker.Header
	Expect               = broker.Expect
	PubAck               = broker.PubAck
	StreamConfig         = broker.StreamConfig
	StreamInfo           = broker.StreamInfo
	PartitionInfo        = broker.PartitionInfo
	GroupConfig          = broker.GroupConfig
	GroupInfo            = broker.GroupInfo
	GroupMode            = broker.GroupMode
	Start                = broker.Start
	StartKind            = broker.StartKind
	Subscription         = broker.Subscription
	Member               = broker.Member
	Delivery             = broker.Delivery
	PurgeOptions         = broker.PurgeOptions
	RedriveResult        = broker.RedriveResult
	Discard              = broker.Discard
	WrongLastOffsetError = broker.WrongLastOffsetError
	Chunk                = broker.Chunk
	Commit               = broker.Commit
)

// Group modes and start positions.
const (
	Shared        = broker.Shared
	Keyed         = broker.Keyed
	Exclusive     = broker.Exclusive
	StartEarliest = broker.StartEarliest
	StartLatest   = broker.StartLatest
	StartOffset   = broker.StartOffset
	StartTime     = broker.StartTime
	StartLastN    = broker.StartLastN
	DiscardOld    = broker.DiscardOld
	DiscardNew    = broker.DiscardNew
)

// Error classes: every error the server returns wraps one of these.
var (
	ErrInvalid          = broker.ErrInvalid
	ErrStreamNotFound   = broker.ErrStreamNotFound
	ErrGroupNotFound    = broker.ErrGroupNotFound
	ErrStreamExists     = broker.ErrStreamExists
	ErrGroupExists      = broker.ErrGroupExists
	ErrSubjectCaptured  = broker.ErrSubjectCaptured
	ErrTooLarge         = broker.ErrTooLarge
	ErrTooManyHeaders   = broker.ErrTooManyHeaders
	ErrWrongLastOffset  = broker.ErrWrongLastOffset
	ErrStreamFull       = broker.ErrStreamFull
	ErrNoResponders     = broker.ErrNoResponders
	ErrTimeout          = broker.ErrTimeout
	ErrClosed           = broker.ErrClosed
	ErrSlowConsumer     = broker.ErrSlowConsumer
	ErrAlreadySettled   = broker.ErrAlreadySettled
	ErrReservedHeader   = broker.ErrReservedHeader
	ErrOffsetOutOfRange = broker.ErrOffsetOutOfRange
	ErrStorage          = broker.ErrStorage
)
