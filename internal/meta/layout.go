package meta

// Namespaces: the first part of every key. The package documentation
// gives the layout of the keys and values of each.
const (
	NSSys    = "sys"    // the store's own records
	NSStream = "stream" // stream configurations
	NSGroup  = "group"  // group configurations
	NSCursor = "cursor" // group cursors, per stream partition
	NSCommit = "commit" // offsets committed by client-managed groups (Kafka)
	NSTimer  = "timer"  // reserved: the broker rebuilds timers from the log
	NSDedup  = "dedup"  // reserved: the broker rebuilds its windows from the log
)

// Kinds of cursor record: the part after the partition in an NSCursor key.
const (
	CursorFloor    = "floor"  // the ack floor: every offset below it is acked
	CursorAcked    = "acked"  // an offset at or above the floor that is acked
	CursorDelivery = "dlv"    // the delivery count of a pending offset
	CursorHanded   = "handed" // every offset below it was delivered at least once
)
