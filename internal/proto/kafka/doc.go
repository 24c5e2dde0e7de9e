// Package kafka is Courier's Kafka front-end: a listener that speaks the
// Kafka wire protocol over the broker core.
//
// # Model
//
// A Kafka topic T is the stream T; its partitions are the stream's
// partitions. The stored batches are Kafka RecordBatch v2, so Produce
// appends a producer's batch as it was sent (compressed or not) and Fetch
// returns the stored bytes without re-encoding. A record produced over
// Kafka has no subject header: every other protocol sees it under the
// subject T. A message published through the core to a subject that the
// stream captures carries its subject in the `courier-subject` header,
// which Kafka consumers see as an ordinary header.
//
// The cluster is one broker, node 0, which leads every partition. It
// advertises Options.AdvertisedAddr, or else the local address of the
// connection the client came in on, so the client always reaches it.
//
// # Topic names
//
// Kafka allows [A-Za-z0-9._-]{1,249}; a Courier stream name allows
// [A-Za-z0-9_-]{1,128}, because '.' separates subject tokens. A topic
// name with '.' or longer than 128 characters is refused with
// INVALID_TOPIC_EXCEPTION and a message saying why; there is no mapping,
// so that a topic and its stream always have the same name. A stream
// created over Kafka captures the subjects `T` and `T.>`.
//
// # Connections
//
// Each connection has one reader and one writer goroutine. The reader
// bounds a frame's size (Options.MaxFrameBytes) before buffering it,
// parses the request header (v1, or v2 for flexible versions) and the body
// with kmsg, and handles requests one at a time, in order, as Kafka does;
// the writer writes the responses in request order, so clients may
// pipeline. A Produce is handled only up to the assignment of its
// offsets: the writer waits for its batches to be durable before
// answering it, while the reader goes on with the next requests, so
// produce requests in flight on one connection share fsyncs. Fetch
// responses are written with writev from the buffers the stored batches
// were read into. An unknown API key, an unsupported version (except for
// ApiVersions, which answers UNSUPPORTED_VERSION) or a request that does
// not parse closes the connection. A panic in a handler closes only its
// connection. Slow-consumer rule: at most outboundQueue requests are in
// flight, handled but not answered (the reader stops reading while the
// queue is full), and a
// write that makes no progress for Options.WriteTimeout closes the
// connection.
//
// # Authentication
//
// With Options.Users set, every connection must authenticate with SASL
// PLAIN (user and password, checked in constant time) before anything
// but ApiVersions, SaslHandshake and SaslAuthenticate; any other request
// closes the connection, as Kafka does, and so does a failed
// authentication (after a SASL_AUTHENTICATION_FAILED answer that says
// why). Until then a request is bounded to 512 KiB. Both handshake
// flows are supported: v1 with SaslAuthenticate (v0 to 2), and the
// legacy v0 with a raw token frame (17_sasl_handshake.go). Sessions do
// not expire (session_lifetime_ms 0). Without Users nothing changes:
// SaslHandshake answers UNSUPPORTED_SASL_MECHANISM with no mechanisms and
// SaslAuthenticate ILLEGAL_SASL_STATE. The authenticated user is not
// used for authorization (there are no ACLs).
//
// # Consumer groups
//
// The broker is the coordinator of every group (FindCoordinator). The
// classic protocol is supported: JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups,
// DeleteGroups and OffsetDelete. Each group with members has one owning
// goroutine (groups.go); committed offsets are stored durably through
// the Backend and survive restarts, while membership and generations are
// in memory (a restart, or a group becoming Empty, starts again at
// generation 0; clients rejoin). Static membership is partial (see
// 11_join_group.go). The consumer protocol of KIP-848
// (ConsumerGroupHeartbeat) is not supported.
//
// # Not supported yet
//
// Transactions, fetch sessions (every Fetch answers session id 0, which
// tells the client to send full fetch requests), topic IDs (Fetch and
// Produce stop at the last versions that name topics), ACLs, TLS (so
// SASL PLAIN sends passwords in the clear), SASL mechanisms other than
// PLAIN (SCRAM, GSSAPI, OAUTHBEARER) and re-authentication (KIP-368).
// Idempotent producers are supported with producer state kept in memory
// (see producers.go). The handlers are registered in versions.go; a new
// API key is a new file and one line there.
package kafka
