// Package api serves Courier's native API (proto/courier/v1): the
// MessagingService and AdminService over Connect, gRPC and gRPC-Web, with
// binary or JSON messages, on one HTTP port (HTTP/1.1 and h2c, so gRPC
// clients work without TLS). Extra routes (health, metrics) share the port.
// So does wire (package wire), the same RPCs on Courier's own framing,
// which the Go client prefers: a connection whose first byte is wire's
// preface is served by the wire server, any other goes to net/http
// (sniff.go). Both dispatch to one connect.Server, so every handler,
// interceptor and error below is the same over either.
//
// # Model
//
// Every RPC is a thin translation onto the broker (internal/broker):
//
//   - Publish stores a message (delay becomes deliver_at = now + delay;
//     expectations check the last offset); a subject no stream captures
//     reaches live subscribers only and the answer names no stream.
//   - PublishBatch reads a client stream and pipelines it: each message gets
//     its offset as it arrives (so the order received is the order stored)
//     while a collector waits for durability in order, at most 1024 at once.
//     There is one result per message; a failed one does not stop the others.
//   - PublishStream is the same pipelined in both directions: each request is
//     a batch, stored as it arrives, and each batch is answered (in order)
//     once durable, so a client keeps several batches in flight on one
//     ordered stream (publish_stream.go). At shutdown it answers what it
//     already stored and ends with shutting_down.
//   - Subscribe streams a subscription (absent start: live only) until the
//     client goes away or the server shuts down; a subscription the broker
//     cuts for slowness ends with slow_consumer.
//   - Consume is a bidi stream: the first message joins a group; the handler
//     goroutine then sends deliveries, numbered per stream by delivery_id,
//     and answers each settle with Settled (error reasons already_settled,
//     unknown_delivery, ...), while a receive goroutine reads the client's
//     messages. Every delivery ready at once goes in one Deliveries
//     frame (consume_batch.go), and a settle may name many deliveries
//     (more_delivery_ids, same action), settled together and answered by
//     one SettledBatch with each id's outcome, or, for a quiet settle,
//     only with the ids that failed (consume_settle.go). Release gives a
//     delivery back uncounted. The member's max in flight (the one asked
//     for, bounded by the group's; Joined says which) is the flow control. When the stream
//     ends for any reason the member leaves, so its unsettled messages go
//     back to the group at once. On shutdown the stream ends with
//     unavailable/shutting_down, so that the consumer joins again.
//   - Fetch and Settle consume a group without a stream, so over HTTP/1.1
//     too: a pull session is a pull member of the group (pull.go).
//   - Request waits for the first reply (default timeout 5s).
//     RequestStream carries many requests on one stream, each answered
//     by id when its reply comes (request_stream.go); the Go client's
//     Request uses it.
//   - AdminService administers streams, groups (Kafka consumer groups'
//     commits are listed too, kind "kafka") and dead letters.
//
// Streams (Subscribe, Consume) hold the flush Connect does after each
// message while more is ready at once, and flush before they wait, so a
// burst leaves in a few writes and a lone message at once (flush.go).
// Responses under 4 KiB are not compressed.
//
// A request message is bounded (Options.MaxMessageBytes, default 8 MiB)
// before it is read; a larger one fails with request_too_large.
//
// # Errors
//
// One table (errors.go) maps each broker error class to a Connect code
// (hence a gRPC code and an HTTP status) and a stable reason. The message
// starts with the reason ("stream_not_found: stream not found: orders") and
// an ErrorInfo detail carries the reason (and, for wrong_last_offset, the
// offset found).
//
//	broker class          code                 HTTP  reason
//	ErrInvalid            invalid_argument     400   invalid_argument
//	ErrTooLarge           invalid_argument     400   message_too_large
//	ErrTooManyHeaders     invalid_argument     400   too_many_headers
//	ErrReservedHeader     invalid_argument     400   reserved_header
//	ErrStreamNotFound     not_found            404   stream_not_found
//	ErrGroupNotFound      not_found            404   group_not_found
//	ErrStreamExists       already_exists       409   stream_exists
//	ErrGroupExists        already_exists       409   group_exists
//	ErrSubjectCaptured    already_exists       409   subject_captured
//	ErrWrongLastOffset    failed_precondition  400   wrong_last_offset
//	ErrStreamHasGroups    failed_precondition  400   stream_has_groups
//	ErrAlreadySettled     failed_precondition  400   already_settled
//	ErrStreamFull         resource_exhausted   429   stream_full
//	ErrSlowConsumer       resource_exhausted   429   slow_consumer
//	ErrOffsetOutOfRange   out_of_range         400   offset_out_of_range
//	ErrNoResponders       unavailable          503   no_responders
//	ErrTimeout            deadline_exceeded    504   timeout
//	ErrClosed             unavailable          503   closed
//	ErrMemberLeft         aborted              409   member_left
//	ErrStorage            internal             500   storage_failed
//	(server shutdown)     unavailable          503   shutting_down
//	(unknown session)     not_found            404   session_not_found
//	(no or wrong login)   unauthenticated      401   unauthenticated
//	(undecodable request) invalid_argument     400   invalid_argument
//	(over the read bound) resource_exhausted   429   request_too_large
//	(anything else)       internal             500   internal
//
// Internal errors are logged and answered without their text. Errors the
// Connect runtime raises while reading a request (malformed JSON, a message
// over the read bound) get a reason and an ErrorInfo too. Unknown JSON
// fields are ignored, so that newer clients work with older servers.
// A settle that fails answers Settled.error with a reason from the same
// table, or unknown_delivery for an id this stream never sent.
//
// # With curl
//
// Connect's unary protocol is plain HTTP POST with a JSON body; bytes
// fields (payload, key) are base64:
//
//	curl -H 'Content-Type: application/json' \
//	  -d '{"config":{"name":"orders","subjects":["orders.>"]}}' \
//	  http://localhost:7070/courier.v1.AdminService/CreateStream
//
//	curl -H 'Content-Type: application/json' \
//	  -d '{"message":{"subject":"orders.eu.created","payload":"aGVsbG8="}}' \
//	  http://localhost:7070/courier.v1.MessagingService/Publish
//	{"stream":"orders","offset":"0"}
//
//	curl -H 'Content-Type: application/json' -d '{"stream":"orders"}' \
//	  http://localhost:7070/courier.v1.AdminService/ReadMessages
//
//	curl -H 'Content-Type: application/json' -d '{"name":"nope"}' \
//	  http://localhost:7070/courier.v1.AdminService/GetStream
//	{"code":"not_found","message":"stream_not_found: stream not found: nope","details":[...]}
//
//	curl -H 'Content-Type: application/json' \
//	  -d '{"stream":"orders","group":"billing","maxMessages":10,"wait":"5s"}' \
//	  http://localhost:7070/courier.v1.MessagingService/Fetch
//	{"session":"d824e1a9…","deliveries":[{"deliveryId":"1","message":{...}}]}
package api
