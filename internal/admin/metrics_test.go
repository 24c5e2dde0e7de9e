package admin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/log"
)

func createStreams(t *testing.T, b *broker.Broker, cfgs ...broker.StreamConfig) {
	t.Helper()
	for _, c := range cfgs {
		if _, err := b.CreateStream(c); err != nil {
			t.Fatalf("create stream %s: %v", c.Name, err)
		}
	}
}

// TestMetricsStreamsAndGroups publishes, consumes with a group that acks
// two messages and nacks the third until it is dead-lettered, follows the
// dead letters with a subscriber, and checks every counter and gauge that
// this moves.
func TestMetricsStreamsAndGroups(t *testing.T) {
	b := openBroker(t)
	createStreams(t, b,
		broker.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}},
		broker.StreamConfig{Name: "dlq", Subjects: []string{"dlq.>"}})
	if _, err := b.CreateGroup(broker.GroupConfig{Name: "workers", Stream: "orders",
		MaxDeliveries: 2, Backoff: []time.Duration{time.Millisecond}, DeadLetter: "dlq.orders"}); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, Routes(Options{Broker: b}))
	for i := range 3 {
		publish(t, b, &broker.Message{Subject: "orders.new", Key: []byte("k"), Payload: fmt.Appendf(nil, "order-%d", i),
			Headers: []broker.Header{{Key: "h", Value: []byte("vv")}}})
	}
	const msgBytes = 1 + 7 + 3 // key, payload, header key and value
	sub, err := b.Subscribe("dlq.>", broker.Start{Kind: broker.StartEarliest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	m, err := b.Join("orders", "workers", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	consume(t, m)
	var letter *broker.Message
	select {
	case letter = <-sub.Messages():
	case <-time.After(5 * time.Second):
		t.Fatal("no dead letter")
	}
	letterBytes := float64(size(letter))

	info, err := b.StreamInfo("orders")
	if err != nil {
		t.Fatal(err)
	}
	got := scrapeUntil(t, srv, samples{
		`courier_stream_messages_in_total{stream="orders"}`:  3,
		`courier_stream_bytes_in_total{stream="orders"}`:     3 * msgBytes,
		`courier_stream_messages_out_total{stream="orders"}`: 4, // three, and one redelivery
		`courier_stream_bytes_out_total{stream="orders"}`:    4 * msgBytes,
		`courier_stream_messages{stream="orders"}`:           3,
		`courier_stream_bytes{stream="orders"}`:              float64(info.Partitions[0].Bytes),
		`courier_stream_messages_in_total{stream="dlq"}`:     1,
		`courier_stream_bytes_in_total{stream="dlq"}`:        letterBytes,
		`courier_stream_messages_out_total{stream="dlq"}`:    1, // to the subscriber
		`courier_stream_bytes_out_total{stream="dlq"}`:       letterBytes,
		`courier_stream_messages{stream="dlq"}`:              1,

		`courier_group_lag{group="workers",kind="courier",stream="orders"}`:                0,
		`courier_group_pending{group="workers",kind="courier",stream="orders"}`:            0,
		`courier_group_members{group="workers",kind="courier",stream="orders"}`:            1,
		`courier_group_deliveries_total{group="workers",kind="courier",stream="orders"}`:   4,
		`courier_group_redeliveries_total{group="workers",kind="courier",stream="orders"}`: 1,
		`courier_group_dead_letters_total{group="workers",kind="courier",stream="orders"}`: 1,
		`courier_group_acked_total{group="workers",kind="courier",stream="orders"}`:        2,
	})
	if info.Partitions[0].Bytes == 0 {
		t.Error("orders stores no bytes")
	}
	// Four durable appends (three and the letter), each synced.
	if n := got["courier_fsync_seconds_count{}"]; n < 4 {
		t.Errorf("fsync count %v, want at least 4", n)
	}
}

// consume receives the three orders, acks two, and nacks the third until
// MaxDeliveries (2) sends it to the dead letters.
func consume(t *testing.T, m *broker.Member) {
	t.Helper()
	for i := range 3 {
		d := receive(t, m)
		if i < 2 {
			if err := d.Ack(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := d.Nack(0); err != nil {
			t.Fatal(err)
		}
	}
	d := receive(t, m)
	if d.Deliveries != 2 {
		t.Fatalf("redelivery %d", d.Deliveries)
	}
	if err := d.Nack(0); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsPendingAndLag leaves deliveries unsettled and messages
// unread, and checks the group's gauges.
func TestMetricsPendingAndLag(t *testing.T) {
	b := openBroker(t)
	createStreams(t, b, broker.StreamConfig{Name: "jobs", Subjects: []string{"jobs"}})
	if _, err := b.CreateGroup(broker.GroupConfig{Name: "g", Stream: "jobs", MaxInFlight: 2}); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, Routes(Options{Broker: b}))
	for range 5 {
		publish(t, b, &broker.Message{Subject: "jobs", Payload: []byte("x")})
	}
	m, err := b.Join("jobs", "g", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	receive(t, m)
	receive(t, m)
	scrapeUntil(t, srv, samples{
		`courier_group_pending{group="g",kind="courier",stream="jobs"}`:          2,
		`courier_group_lag{group="g",kind="courier",stream="jobs"}`:              5,
		`courier_group_deliveries_total{group="g",kind="courier",stream="jobs"}`: 2,
		`courier_stream_messages_out_total{stream="jobs"}`:                       2,
	})
}

// TestMetricsKafkaBatchesAndCommits appends a raw batch as the Kafka
// front-end does, reads it as fetches do (and once as the front-end reads
// for itself), commits for a Kafka group, and checks the counters and the
// kafka-kind lag.
func TestMetricsKafkaBatchesAndCommits(t *testing.T) {
	b := openBroker(t)
	createStreams(t, b, broker.StreamConfig{Name: "clicks", Subjects: []string{"clicks"}})
	srv := serve(t, Routes(Options{Broker: b}))
	recs := []log.Record{{Value: []byte("a")}, {Value: []byte("bb")}, {Value: []byte("ccc")}, {Key: []byte("k"), Value: []byte("dddd")}}
	batch := log.EncodeBatch(nil, recs, time.Now().UnixMilli())
	ctx := context.Background()
	if _, err := b.AppendBatch(ctx, "clicks", 0, batch); err != nil {
		t.Fatal(err)
	}
	c, err := b.ReadPartition("clicks", 0, nil, 0, 1<<20)
	if err != nil || len(c.Data) != len(batch) {
		t.Fatalf("read %d bytes: %v", len(c.Data), err)
	}
	if _, err := b.ReadPartition("clicks", 0, nil, 3, 1<<20); err != nil { // the same batch, one record wanted
		t.Fatal(err)
	}
	if _, err := b.ScanPartition("clicks", 0, nil, 0, 1<<20); err != nil { // the front-end's own read: not counted
		t.Fatal(err)
	}
	if err := b.CommitOffsets([]broker.Commit{{Group: "clickers", Stream: "clicks", Offset: 1}}); err != nil {
		t.Fatal(err)
	}
	scrapeUntil(t, srv, samples{
		`courier_stream_messages_in_total{stream="clicks"}`:                4,
		`courier_stream_bytes_in_total{stream="clicks"}`:                   float64(len(batch)),
		`courier_stream_messages_out_total{stream="clicks"}`:               4 + 1,
		`courier_stream_bytes_out_total{stream="clicks"}`:                  float64(2 * len(batch)),
		`courier_stream_messages{stream="clicks"}`:                         4,
		`courier_group_lag{group="clickers",kind="kafka",stream="clicks"}`: 3,
	})
}
