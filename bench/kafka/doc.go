// Package kafka measures Courier's Kafka front-end (internal/proto/kafka)
// in process, with franz-go (kgo) clients over loopback TCP, against the
// disk and page cache measured in the same run:
//
//   - BenchmarkKafkaProduce: 1 or 4 idempotent producers (acks=all), each
//     on its own partition of a durable topic (fsync before the ack), 128 B
//     and 1 KiB records, linger 5 ms, 16 KiB or 1 MiB batches, no
//     compression; interleaved with raw write+fsync of batch-sized writes
//     into a file in the same directory. ratio-to-raw = produced value
//     bytes/s ÷ raw bytes/s.
//   - BenchmarkKafkaConsume: one kgo consumer reading a topic of
//     COURIER_BENCH_KAFKA_READ_BYTES (default 1 GiB) from the start, from
//     the page cache, against raw pread(2) of the same segment files.
//   - BenchmarkKafkaConsumeRaw: a raw consumer (kmsg-encoded Fetch
//     requests, 1 or 4 in flight, record bytes discarded undecoded) reading
//     the same topic: what the broker serves when the client costs next to
//     nothing. BenchmarkKafkaConsume runs it beside kgo too (rawcons-MB/s).
//   - BenchmarkKafkaEndToEnd: 1 KiB records at a fixed 2,000 records/s,
//     latency from the produce call to the consumer's receipt.
//
// The package has benchmarks only: go test runs none of them.
// docs/benchmarks.md has the results.
package kafka
