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
// pipeline. An unknown API key, an unsupported version (except for
// ApiVersions, which answers UNSUPPORTED_VERSION) or a request that does
// not parse closes the connection. A panic in a handler closes only its
// connection. Slow-consumer rule: at most outboundQueue responses wait for
// the writer (the reader stops reading while the queue is full), and a
// write that makes no progress for Options.WriteTimeout closes the
// connection.
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
// Produce stop at the last versions that name topics), ACLs, SASL and
// TLS. Idempotent producers are supported
// with producer state kept in memory (see producers.go). The handlers are
// registered in versions.go; a new API key is a new file and one line
// there.
package kafka
