// Package api benchmarks Courier's native API end to end: a server with
// its API listener on 127.0.0.1 (real TCP), driven by the Go client
// (package client, over wire unless a benchmark says otherwise), with the same workloads (bench/core/harness) as its
// peer in bench/peers/nats (nats-server listening on 127.0.0.1, driven by
// nats.go):
//
//   - BenchmarkAPIAsync: harness.AsyncPublishers publishers, each with its
//     own client, pipelining PublishAsync (batched, several batches in
//     flight), into a shared group of harness.Consumers members, each with
//     its own client, acking every message. Peer: BenchmarkNetJetStreamAsync.
//   - BenchmarkAPIPublishAsync: one publisher, no consumers: how fast one
//     stream takes pipelined publishes. Peer: BenchmarkNetJetStreamPublishAsync.
//   - BenchmarkEchoRoundTrip and BenchmarkSleepOvershoot: the floor under
//     ping-pong (a 128 B echo over TCP and over one h2c stream) and why it
//     does not pace with plain sleeps.
//   - BenchmarkAPIPingPong: one requester paced at harness.PingPongRate,
//     one responder (a subscription that replies), over wire and over
//     HTTP/2 (client.WithHTTP), each paced both ways (harness.Pace: a
//     spinning wait that keeps the rate exact, or sleeps that let the
//     process idle). Peer: BenchmarkNetCorePingPong (core NATS
//     request/reply), paced alike.
//   - BenchmarkAPIRequestLoop: the same requests unpaced, one after
//     another (harness.PaceNone): the work on one round trip's path. Peer:
//     BenchmarkNetCoreRequestLoop.
//
// Courier fsyncs before every acknowledgement (its default); the peer runs
// with SyncAlways and with JetStream's default (no fsync before the ack).
// bench/run-api.sh runs both and prints the ratios.
package api
