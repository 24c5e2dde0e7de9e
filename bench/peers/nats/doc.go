// Package nats runs the broker-core benchmarks of bench/core against an
// embedded nats-server JetStream, driven through nats.go over in-process
// connections (no sockets), with the same workload (package
// bench/core/harness):
//
//   - BenchmarkJetStreamPublish: N publishers, each with its own
//     connection, publishing one message at a time with the synchronous
//     js.Publish (waits for the PubAck);
//   - BenchmarkJetStreamEndToEnd: the same, consumed through one durable
//     pull consumer (explicit acks) by harness.Consumers workers, each on
//     its own connection with Consume, acking every message;
//   - BenchmarkJetStreamPaced: end to end at half the rate the unpaced
//     run reached;
//   - BenchmarkJetStreamPublishAsync: one connection pipelining
//     PublishAsync (no Courier counterpart: not comparable to the rows
//     above).
//
// Every benchmark runs under sync=always (SyncAlways: true, an fsync per
// write, before the PubAck, like Courier's default) and sync=default
// (JetStream's default: fsync every 2 minutes, so not durable at the ack).
// The streams use file storage in b.TempDir().
//
// This is a module of its own so that the main module never builds or
// requires nats. bench/run-core.sh runs it after bench/core.
package nats
