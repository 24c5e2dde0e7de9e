// Package admin serves Courier's operational endpoints, mounted beside the
// native API on its port (api.Options.Routes):
//
//   - /healthz answers 200 "ok" while the process serves HTTP at all
//     (liveness);
//   - /readyz answers 200 "ready" when the broker is open and Options.Ready
//     (which the command wires to its listeners) reports no error, else
//     503 with the reason as plain text (readiness; it flips during
//     shutdown);
//   - /metrics serves Prometheus text from a registry of its own: the Go
//     runtime and process collectors, and Courier's collector.
//
// # Metrics model
//
// Nothing on the broker's hot paths calls Prometheus. The broker keeps
// atomic counters (per stream, per group) and an atomic fixed-bucket fsync
// histogram; at scrape time the collector takes one broker.Stats snapshot
// and turns it into constant metrics. Stream counters restart from zero
// when the broker restarts or a stream is recreated (Prometheus treats
// that as a counter reset).
//
//	courier_stream_messages_in_total{stream}     stored by Publish and AppendBatch (Kafka: records per batch header)
//	courier_stream_bytes_in_total{stream}        key+payload+headers published; a Kafka batch's size as received
//	courier_stream_messages_out_total{stream}    delivered to group members and subscribers; records read by ReadPartition (Kafka fetches)
//	courier_stream_bytes_out_total{stream}       the same, in bytes (batches as read for ReadPartition)
//	courier_stream_messages{stream}              stored now, across partitions
//	courier_stream_bytes{stream}                 stored now, across partitions (segment bytes)
//	courier_group_lag{stream,group,kind}         messages not yet settled (courier) or behind the commit (kafka)
//	courier_group_pending{stream,group,kind}     delivered, not settled (courier groups only)
//	courier_group_members{stream,group,kind}     members (courier groups only)
//	courier_group_deliveries_total{...}          deliveries, redeliveries included (courier)
//	courier_group_redeliveries_total{...}        deliveries after the first (courier)
//	courier_group_dead_letters_total{...}        dead-lettered (courier)
//	courier_group_acked_total{...}               acknowledged (courier)
//	courier_fsync_seconds                        histogram of every fsync of the partition logs
//	courier_connections{listener}                open client connections per listener ("api", "kafka", "amqp", "mqtt", "stomp")
//
// kind is "courier" for the broker's own groups and "kafka" for Kafka
// consumer groups (client-managed commits), whose names may coincide.
package admin
