// Package broker is Courier's core: streams, subjects, subscriptions,
// groups, dead letters, delays and request/reply, in process. Every
// protocol front-end and the native API drive it; it never sees a
// protocol's framing.
//
// # Model
//
// A message has a subject (dot-separated tokens), an optional key,
// ordered headers and a payload. A stream captures subject patterns
// (no two streams capture the same subject) and stores what it captures
// in P partition logs (internal/log): by Kafka's murmur2 of the key, else
// by a hash of the subject. Reserved fields travel as "courier-" headers
// of the stored record, so a message stored once reads the same from
// every protocol. A subject no stream captures goes to its current
// subscribers only.
//
// Publishing is acknowledged once durable under the stream's sync
// policy. Two checks run atomically with the offset assignment (under the
// log's append lock, through log.AppendIf): expectations (the last offset
// of the partition or of the subject, for optimistic concurrency) and the
// de-duplication window on the message id. The per-subject last offsets
// and the window are rebuilt from the log when a stream opens.
//
// A Subscription gets every matching message: from the logs of the
// streams whose patterns overlap its own, from a start position and then
// live, at its own pace (one follower goroutine per partition); and
// uncaptured messages live, dropped with ErrSlowConsumer if it falls a
// whole buffer behind. A consumer that can take a live message without
// waiting may have it handed over on the publisher's goroutine while it
// is idle (Subscription.Direct), in the order the buffer would keep.
//
// A group is a durable cursor over a stream, with members:
//
//   - shared: each message to one member with room (round robin);
//   - keyed: each key to one member by rendezvous hashing; a key has at
//     most one message out at a time, so keys keep their order, and a key
//     that moves when members join or leave moves only once its message
//     out is settled;
//   - exclusive: the first member gets everything; the others stand by and
//     take over, with the unsettled messages, when it leaves or lets an ack
//     wait pass.
//
// Dispatch queues deliveries for a member; at most MaxInFlight are the
// member's at once (a settle makes room for the next at once, as AMQP's
// prefetch does). A member is read either through C() (a
// pump goroutine offers them one at a time) or with Ready and Take (every
// queued delivery at once, as the network front-ends do); a pull member
// (JoinPull) is offered deliveries only as it asks for them (Want). A
// delivery counts (Deliveries, MaxDeliveries) once it is handed over; one
// withdrawn because its ack wait passed, or because it was taken back,
// does not count and is never handed over stale. A delivery is settled by
// Ack, Nack (with a delay, else the backoff schedule), Term or Reject (to
// the dead-letter subject), or Release (back to the group, uncounted: it
// was never shown), alone or many at once (SettleAll), or extended by
// InProgress. Past the ack wait it is delivered again; past MaxDeliveries,
// on Term or Reject, or when its TTL passes, it is dead-lettered: published
// to the group's dead-letter subject with courier-dlq-* headers naming its
// origin and the reason, and settled once that publish is durable; one
// goroutine per group publishes its letters in order.
//
// A group reads at most MaxPending messages ahead of what is settled, per
// partition. TTLs are still honoured beyond that window: a reader blocked
// at the bound sweeps the log ahead of it and dead-letters what expired
// (sweep.go), so an expired message is handled within a delay bounded by
// the backlog ahead of it, not only once the group reaches it. The
// messages a reader admits alias the chunk it read rather than copying
// their bytes out; a message held for a time, and the last eighth of a
// chunk's messages, copy theirs out so that few chunks stay in memory
// for a few messages (chunk.go).
//
// # Group state
//
// Per partition a group keeps a floor (every offset below is settled), the
// settled offsets above it, delivery counts and a handed mark (every
// offset below it was delivered at least once); it writes them to the
// metadata store as deferred writes (see gstate.go). A first delivery
// writes nothing of its own (the handed mark covers it), and an offset
// settled above the floor is written only if the floor has not passed it
// a period (Options.AckHold, 50 ms by default: written 50-100 ms after the
// ack) later (gacks.go), so a message delivered and acked
// in order costs no key of its own. A restart reads the log again from
// the floor: unsettled messages are delivered again with their counts
// (one for those below the handed mark without a count), delayed ones
// are scheduled again from their deliver-at header, so timers survive
// restarts without being stored. A crash can forget acks of the store's
// last commit interval, and acks above the floor of the last period:
// those messages are delivered again (at-least-once), none is skipped.

// # Concurrency
//
// Lock order: Broker.mu → stream.mu → group.mu; log.Log's append lock →
// partition.mu (AppendIf's check). No lock is held across a log append or
// a metadata write that waits for disk, except stream.mu shared by
// publishers (Update takes it exclusively to reopen the logs). Each group
// has one reader goroutine per partition, a timer goroutine, a dead-letter
// goroutine and a pump per member read through C(); dispatch only
// queues, so it never blocks under the group lock. Every goroutine stops on Close.
package broker
