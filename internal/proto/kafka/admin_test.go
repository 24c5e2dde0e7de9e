package kafka

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestKafkaAdminTopics(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	adm := kadm.NewClient(e.client(t))
	compact, retention := "compact", "3600000"
	resps, err := adm.CreateTopics(ctx, 3, 1, map[string]*string{"cleanup.policy": &compact, "retention.ms": &retention}, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if r := resps["orders"]; r.Err != nil || r.NumPartitions != 3 {
		t.Fatalf("create: %+v", r)
	}
	in, err := e.srv.StreamInfo("orders")
	if err != nil {
		t.Fatal(err)
	}
	if c := in.Config; !c.Compact || c.MaxAge != time.Hour || len(c.Subjects) != 2 || c.Subjects[1] != "orders.>" {
		t.Fatalf("stream config %+v", c)
	}
	// Again: exists.
	resps, _ = adm.CreateTopics(ctx, 1, 1, nil, "orders")
	if err := resps["orders"].Err; err != kerr.TopicAlreadyExists {
		t.Fatalf("create again: %v", err)
	}
	// A dot cannot be part of a stream name.
	resps, _ = adm.CreateTopics(ctx, 1, 1, nil, "with.dot")
	if r := resps["with.dot"]; r.Err != kerr.InvalidTopicException || !strings.Contains(r.ErrMessage, "'.'") {
		t.Fatalf("dotted name: %v %q", r.Err, r.ErrMessage)
	}
	// Unsupported config, replication factor.
	bad := "1"
	resps, _ = adm.CreateTopics(ctx, 1, 1, map[string]*string{"min.insync.replicas": &bad}, "badcfg")
	if err := resps["badcfg"].Err; err != kerr.InvalidConfig {
		t.Fatalf("bad config: %v", err)
	}
	resps, _ = adm.CreateTopics(ctx, 1, 3, nil, "rf3")
	if err := resps["rf3"].Err; err != kerr.InvalidReplicationFactor {
		t.Fatalf("rf 3: %v", err)
	}

	// Metadata through kadm.
	td, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := td["orders"]; len(d.Partitions) != 3 || d.Partitions[0].Leader != 0 {
		t.Fatalf("list topics: %+v", td)
	}

	// Partitions grow, never shrink.
	cp, err := adm.UpdatePartitions(ctx, 5, "orders")
	if err != nil || cp["orders"].Err != nil {
		t.Fatalf("grow: %v %+v", err, cp)
	}
	cp, _ = adm.UpdatePartitions(ctx, 2, "orders")
	if cp["orders"].Err != kerr.InvalidPartitions {
		t.Fatalf("shrink: %+v", cp["orders"])
	}
	if in, _ := e.srv.StreamInfo("orders"); len(in.Partitions) != 5 {
		t.Fatalf("partitions %d", len(in.Partitions))
	}

	// Configs: describe, alter, describe.
	rc, err := adm.DescribeTopicConfigs(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	got := configMap(t, rc)
	if got["cleanup.policy"] != "compact" || got["retention.ms"] != "3600000" || got["retention.bytes"] != "-1" || got["max.message.bytes"] != "1048576" {
		t.Fatalf("configs %v", got)
	}
	size := "2048"
	ar, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "max.message.bytes", Value: &size},
		{Op: kadm.DeleteConfig, Name: "cleanup.policy"},
	}, "orders")
	if err != nil || ar[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, ar)
	}
	rc, _ = adm.DescribeTopicConfigs(ctx, "orders")
	got = configMap(t, rc)
	if got["cleanup.policy"] != "delete" || got["max.message.bytes"] != "2048" {
		t.Fatalf("configs after alter %v", got)
	}
	ar, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "segment.ms", Value: &size}}, "orders")
	if ar[0].Err != kerr.InvalidConfig {
		t.Fatalf("alter unsupported: %+v", ar)
	}

	// Delete.
	dr, err := adm.DeleteTopics(ctx, "orders", "missing")
	if err != nil {
		t.Fatal(err)
	}
	if dr["orders"].Err != nil || dr["missing"].Err != kerr.UnknownTopicOrPartition {
		t.Fatalf("delete: %+v", dr)
	}
	if _, err := e.srv.StreamInfo("orders"); err == nil {
		t.Fatal("stream still there")
	}
}

func configMap(t *testing.T, rc kadm.ResourceConfigs) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, r := range rc {
		if r.Err != nil {
			t.Fatalf("describe %s: %v", r.Name, r.Err)
		}
		for _, c := range r.Configs {
			m[c.Key] = c.MaybeValue()
		}
	}
	return m
}

func TestKafkaAdminCluster(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	adm := kadm.NewClient(e.client(t))
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if md.Cluster != "courier" || md.Controller != 0 || len(md.Brokers) != 1 || md.Brokers[0].NodeID != 0 {
		t.Fatalf("metadata %+v", md)
	}
	if _, port := splitHostPort(e.addr); md.Brokers[0].Port != port {
		t.Fatalf("advertised port %d, listener %s", md.Brokers[0].Port, e.addr)
	}
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Err != nil {
			t.Fatal(v.Err)
		}
		if lo, hi, ok := v.KeyVersions(0); !ok || lo != 3 || hi != 12 {
			t.Fatalf("produce versions %d to %d", lo, hi)
		}
	}
}

func TestKafkaListOffsetsByTime(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "tm", 1)
	ctx := testCtx(t)
	cl := e.client(t, kgo.DefaultProduceTopic("tm"), kgo.DisableIdempotentWrite())
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i := range 10 {
		r := &kgo.Record{Value: []byte{byte(i)}, Timestamp: base.Add(time.Duration(i) * time.Minute)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)
	check := func(what string, lo kadm.ListedOffsets, off, ts int64) {
		t.Helper()
		l, ok := lo.Lookup("tm", 0)
		if !ok || l.Err != nil || l.Offset != off || l.Timestamp != ts {
			t.Fatalf("%s: %+v, want offset %d timestamp %d", what, l, off, ts)
		}
	}
	lo, err := adm.ListOffsetsAfterMilli(ctx, base.Add(3*time.Minute-time.Second).UnixMilli(), "tm")
	if err != nil {
		t.Fatal(err)
	}
	check("after 2m59s", lo, 3, base.Add(3*time.Minute).UnixMilli())
	lo, _ = adm.ListOffsetsAfterMilli(ctx, time.Now().Add(time.Hour).UnixMilli(), "tm")
	check("future", lo, 10, -1) // the server says -1; kadm answers the end offset
	raw := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "tm"
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = time.Now().Add(time.Hour).UnixMilli()
	rt.Partitions = append(rt.Partitions, rp)
	raw.Topics = append(raw.Topics, rt)
	rresp, err := raw.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if p := rresp.Topics[0].Partitions[0]; p.Offset != -1 || p.Timestamp != -1 || p.ErrorCode != 0 {
		t.Fatalf("raw future lookup %+v", p)
	}
	lo, _ = adm.ListStartOffsets(ctx, "tm")
	check("start", lo, 0, -1)
	lo, _ = adm.ListEndOffsets(ctx, "tm")
	check("end", lo, 10, -1)
}
