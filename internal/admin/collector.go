package admin

import (
	"errors"
	"fmt"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/prometheus/client_golang/prometheus"
)

// Group kinds, the kind label of every group metric.
const (
	kindCourier = "courier"
	kindKafka   = "kafka"
)

// collector turns one broker.Stats snapshot per scrape into metrics.
type collector struct {
	b     *broker.Broker
	conns map[string]func() int64

	msgsIn, bytesIn, msgsOut, bytesOut, stored, storedBytes *prometheus.Desc

	lag, pending, members, deliveries, redeliveries, deadLetters, acked *prometheus.Desc

	fsync, connections *prometheus.Desc
}

func newCollector(b *broker.Broker, conns map[string]func() int64) *collector {
	stream := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"stream"}, nil)
	}
	group := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"stream", "group", "kind"}, nil)
	}
	return &collector{b: b, conns: conns,
		msgsIn:       stream("courier_stream_messages_in_total", "Messages stored in the stream (published, or records of Kafka batches)."),
		bytesIn:      stream("courier_stream_bytes_in_total", "Bytes stored in the stream: key, payload and headers published, or Kafka batches as received."),
		msgsOut:      stream("courier_stream_messages_out_total", "Messages delivered from the stream to group members and subscribers, and records read by Kafka fetches."),
		bytesOut:     stream("courier_stream_bytes_out_total", "Bytes delivered from the stream to group members and subscribers, and batch bytes read by Kafka fetches."),
		stored:       stream("courier_stream_messages", "Messages stored in the stream now, across partitions."),
		storedBytes:  stream("courier_stream_bytes", "Bytes stored in the stream now, across partitions."),
		lag:          group("courier_group_lag", "Messages of the stream the group has not settled (courier) or that are past its committed offsets (kafka)."),
		pending:      group("courier_group_pending", "Messages delivered to the group's members and not yet settled."),
		members:      group("courier_group_members", "Members of the group."),
		deliveries:   group("courier_group_deliveries_total", "Deliveries to the group's members, redeliveries included."),
		redeliveries: group("courier_group_redeliveries_total", "Deliveries after a message's first."),
		deadLetters:  group("courier_group_dead_letters_total", "Messages the group dead-lettered."),
		acked:        group("courier_group_acked_total", "Messages the group's members acknowledged."),
		fsync:        prometheus.NewDesc("courier_fsync_seconds", "Duration of each fsync of the partition logs.", nil, nil),
		connections:  prometheus.NewDesc("courier_connections", "Open client connections, per listener.", []string{"listener"}, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.msgsIn, c.bytesIn, c.msgsOut, c.bytesOut, c.stored, c.storedBytes,
		c.lag, c.pending, c.members, c.deliveries, c.redeliveries, c.deadLetters, c.acked, c.fsync, c.connections} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for name, n := range c.conns {
		ch <- gauge(c.connections, n(), name)
	}
	if c.b == nil {
		return
	}
	st, err := c.b.Stats()
	if errors.Is(err, broker.ErrClosed) {
		return // shutting down: /readyz says so
	}
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.lag, fmt.Errorf("kafka group lag: %w", err))
	}
	c.collectStreams(ch, st.Streams)
	c.collectGroups(ch, st.Groups)
	for _, l := range st.CommitLags {
		ch <- gauge(c.lag, l.Lag, l.Stream, l.Group, kindKafka)
	}
	ch <- fsyncHistogram(c.fsync, st.Fsync)
}

func (c *collector) collectStreams(ch chan<- prometheus.Metric, streams []broker.StreamStats) {
	for _, s := range streams {
		ch <- counter(c.msgsIn, s.MessagesIn, s.Name)
		ch <- counter(c.bytesIn, s.BytesIn, s.Name)
		ch <- counter(c.msgsOut, s.MessagesOut, s.Name)
		ch <- counter(c.bytesOut, s.BytesOut, s.Name)
		ch <- gauge(c.stored, s.Messages, s.Name)
		ch <- gauge(c.storedBytes, s.Bytes, s.Name)
	}
}

func (c *collector) collectGroups(ch chan<- prometheus.Metric, groups []broker.GroupInfo) {
	for _, g := range groups {
		l := []string{g.Config.Stream, g.Config.Name, kindCourier}
		ch <- gauge(c.lag, g.Lag, l...)
		ch <- gauge(c.pending, int64(g.InFlight), l...)
		ch <- gauge(c.members, int64(g.Members), l...)
		ch <- counter(c.deliveries, g.Delivered, l...)
		ch <- counter(c.redeliveries, g.Redelivered, l...)
		ch <- counter(c.deadLetters, g.DeadLettered, l...)
		ch <- counter(c.acked, g.Acked, l...)
	}
}

func counter(d *prometheus.Desc, v int64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(d *prometheus.Desc, v int64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
}

func fsyncHistogram(d *prometheus.Desc, h broker.Histogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Cumulative[i]
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum.Seconds(), buckets)
}
