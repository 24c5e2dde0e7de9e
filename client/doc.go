// Package client is the Go client of Courier's native API.
//
// # Model
//
// A message has a subject (dot-separated tokens such as
// "orders.eu.created"), an optional key, ordered headers and a payload.
// A stream captures subject patterns ("orders.>", "audit.*") and stores
// what it captures in partitions, by the key, else by the subject. A
// subject no stream captures reaches only its live subscribers.
//
// There are three ways to receive:
//
//   - Subscribe: broadcast. Every subscription gets every matching
//     message, replayed from a Start position and then live, without
//     acks.
//   - Join / Consume: a group is a durable cursor over a stream, with
//     members. A "shared" group gives each message to one member
//     (competing consumers); a "keyed" group gives each key to one member,
//     one message of a key at a time (sharded consumers, in order per
//     key); an "exclusive" group gives everything to one member while the
//     others stand by. Each delivery is settled: Ack (done), Nack
//     (deliver again after a delay or the group's backoff), Term or Reject
//     (dead-letter it to the group's DeadLetter subject, which a stream
//     can capture as a dead-letter queue; Redrive moves the letters
//     back). An unsettled delivery comes back after the group's ack wait.
//   - Request / Reply: a request goes to one responder subscribed to the
//     subject, which answers with Reply.
//
// # Publishing
//
// Publish returns once the message is durable. PublishAsync returns a
// PubFuture at once: a background sender per lane gathers pending
// messages into batches (WithBatch) and pipelines them over one
// PublishStream, several batches in flight, with WithMaxInFlight
// publishes pending at most (PublishAsync blocks beyond that). Messages with the same key, or without a key the same subject,
// keep their order. Flush waits for everything queued; Close flushes.
//
// # Failures
//
// Server errors are *Error values with a Connect code and a stable reason;
// compare them with errors.Is against ErrStreamNotFound, ErrWrongLastOffset
// and the other sentinels. ErrUnavailable matches a server that cannot be
// reached. Unary calls retry while the server is unavailable (WithRetries).
// Subscriptions and consumers survive a server restart: a subscription
// resumes after the last message it delivered, a consumer rejoins its
// group, which gives again whatever was not acked (settling a delivery
// from before the restart fails with ErrStaleDelivery, harmlessly).
//
// The client speaks the Connect protocol with binary protobuf over HTTP/2
// without TLS (h2c), which the bidirectional Consume stream needs.
package client
