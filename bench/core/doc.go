// Package core measures Courier's broker core in process, durable (fsync
// before every publish acknowledgement, the default), against the
// partition log's own group-commit append rate measured in the same run:
//
//   - BenchmarkCorePublish: N publishers, each publishing one message at a
//     time and waiting for its ack;
//   - BenchmarkCoreEndToEnd: the same, consumed by a shared group of
//     harness.Consumers members that ack every message;
//   - BenchmarkCorePaced: end to end at half the rate the unpaced run
//     reached.
//
// The first two interleave slices of the core with slices of the log
// baseline (internal/log Append of one record of the same value size from
// N appenders, SyncAlways) and report ratio-to-log. The workload itself is
// in package harness, shared with the JetStream peer in bench/peers/nats
// (a module of its own, so that this module never builds nats).
// bench/run-core.sh runs both and prints the combined table;
// docs/benchmarks.md has the results.
//
// The package has benchmarks only: go test runs none of them.
package core
