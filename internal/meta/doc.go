// Package meta is the broker's durable metadata store: stream and group
// configurations, group cursors, timers, de-duplication windows, and any
// other small records the broker keeps outside the partition logs. It is
// an ordered key-value store on Pebble (github.com/cockroachdb/pebble/v2).
//
// # Model
//
// A key is a tuple built by Key: a namespace, then parts that are strings,
// byte slices or integers. Keys sort as their tuples do, so a prefix scan
// visits, say, the acked offsets of one partition in offset order, and
// Prefix(ns, parts...) covers exactly the keys that extend that tuple.
// Values are bytes; configurations are JSON (PutJSON, GetJSON), integers
// are varints (EncodeInt, DecodeInt).
//
// # Key layout
//
// Keys are written ns/part/part; <x> is a variable part, "x" a constant.
// Partitions, offsets and due times are int64, the others strings.
//
//	key                                                   value                  written by
//	sys/"format"                                          EncodeInt(1)           Open
//	stream/<stream>                                       stream config (JSON)   PutJSON
//	group/<stream>/<group>                                group config (JSON)    PutJSON
//	cursor/<stream>/<group>/<partition>/"floor"           EncodeInt(ack floor)   SetDeferred
//	cursor/<stream>/<group>/<partition>/"acked"/<offset>  empty                  SetDeferred, DeleteDeferred
//	cursor/<stream>/<group>/<partition>/"dlv"/<offset>    deliveries, not-before SetDeferred, DeleteDeferred
//	cursor/<stream>/<group>/<partition>/"handed"          EncodeInt(offset)      SetDeferred
//	commit/<group>/<stream>/<partition>                   offset, metadata       Set, DeletePrefix
//
// Timers and de-duplication windows are not stored: the broker rebuilds
// them from the logs (deliver-at and TTL headers, message ids), so the
// timer and dedup namespaces stay reserved.
//
// The namespaces and cursor kinds are the NS... and Cursor... constants;
// a new kind of record gets a namespace here first. A cursor is the ack
// floor (every offset below it is acked), the offsets at or above the
// floor acked out of order, the delivery count of each pending offset
// delivered more than once or waiting to be delivered again, and the
// "handed" mark: every offset below it was delivered at least once, so a
// pending one without a "dlv" record counts one delivery after a restart
// (a first delivery writes no record of its own). When the floor
// advances, the broker deletes the "acked" records below it, and a "dlv"
// record when its message is settled; a "dlv" value is two
// varints, the delivery count and the Unix ms before which the message
// must not be delivered again (0: none). Deleting a group deletes its
// config and DeletePrefix(Prefix(NSCursor, s, g)). A client-managed
// group's commits (commit/...) hold a varint offset followed by the
// client's metadata string.
//
// # Key encoding
//
// Each part is a type tag and a self-delimiting body:
//
//	0x01 escaped           []byte
//	0x02 escaped           string (the namespace is one too)
//	0x03 8 bytes           int64, big-endian with the sign bit flipped
//	0x04 8 bytes           uint64, big-endian
//
//	escaped: the bytes, each 0x00 written as 0x00 0xFF, then 0x00 0x01
//
// For example Key("cursor", "orders", 3) is
//
//	02 63 75 72 73 6f 72 00 01   "cursor"
//	02 6f 72 64 65 72 73 00 01   "orders"
//	03 80 00 00 00 00 00 00 03   3
//
// The terminator 0x00 0x01 sorts below any continuation of a string, so a
// string sorts before its extensions ("a" < "a\x00" < "ab"), and it never
// occurs inside one, so no key of one string part starts with the
// encoding of a shorter one. DecodeKey inverts Key and rejects every byte
// string that Key cannot produce.
//
// # Durability
//
// Set, Delete, DeletePrefix, Apply and PutJSON return once their write is
// in Pebble's write-ahead log and fsynced; concurrent callers share fsyncs
// (group commit). An Apply is atomic: after a crash all of it or none of
// it is there.
//
// SetDeferred and DeleteDeferred are for frequent writes whose loss a crash
// may afford, such as acks: they return at once, are visible to Get and
// Scan at once (through an in-memory overlay), and are coalesced (the last
// write to a key wins) into one batch that a background committer makes
// durable CommitInterval after the first of them (default 10ms; sooner
// once 1 MiB is waiting). Flush, any synchronous write, and Close commit
// them at once. A crash therefore loses at most the deferred writes of the
// last CommitInterval plus one fsync; for cursors this is the window in
// which acked messages are redelivered after a crash.
//
// All writes reach Pebble in the order they were made: a synchronous
// write carries the deferred writes made before it in its own batch, ahead
// of its ops. So what survives a crash is the store as it was at some
// moment no earlier than the last write that returned durable: a
// recovered cursor is one the broker really had, so it may redeliver but
// never skips a message that was not acked. (Delivery counts may come back
// lower by the deliveries of the lost window.)
//
// A failed commit (a write or fsync of the log) fails the store: the call
// waiting for it, and every later call but Close, return an error wrapping
// ErrFailed, and Close returns it too. Closing and reopening the store
// recovers what was durable. Pebble's own fatal errors (a failed manifest
// sync, detected corruption) panic, where Pebble's default logger would
// exit the process.
//
// # Concurrency
//
// A Store is safe for concurrent use. Lock order: commitMu → mu. commitMu
// is held from moving the deferred writes out of the overlay until Pebble
// has applied their batch (no fsync), which fixes the commit order; the
// fsync is waited for outside it. mu guards the overlay, the chain of
// commits and the closed and failed states, and is never held across
// I/O. The committer is the only goroutine the store starts; Close stops
// it after the calls in progress have returned, commits the rest, and
// closes Pebble, which stops Pebble's own goroutines.
package meta
