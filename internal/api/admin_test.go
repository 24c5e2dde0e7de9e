package api

import (
	"testing"

	"connectrpc.com/connect/v2"
	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/server"
)

func TestAPIAdminStreamsAndGroups(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, ac := p.clients(e)
			cr, err := ac.CreateStream(ctx, &courierv1.CreateStreamRequest{Config: &courierv1.StreamConfig{
				Name: "orders", Subjects: []string{"orders.>"}, Partitions: 2, MaxAge: durationpb.New(3600e9)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := cr.Stream; got.Config.Name != "orders" || len(got.Partitions) != 2 || got.Config.MaxAge.AsDuration() != 3600e9 {
				t.Fatalf("created %v", got)
			}
			_, err = ac.CreateStream(ctx, &courierv1.CreateStreamRequest{Config: &courierv1.StreamConfig{Name: "orders", Subjects: []string{"x"}}})
			wantErr(t, err, connect.CodeAlreadyExists, "stream_exists")
			_, err = ac.CreateStream(ctx, &courierv1.CreateStreamRequest{Config: &courierv1.StreamConfig{Name: "o2", Subjects: []string{"orders.eu"}}})
			wantErr(t, err, connect.CodeAlreadyExists, "subject_captured")
			if _, err := mc.Publish(ctx, pub("orders.eu", "x")); err != nil {
				t.Fatal(err)
			}
			up, err := ac.UpdateStream(ctx, &courierv1.UpdateStreamRequest{Config: &courierv1.StreamConfig{
				Name: "orders", Subjects: []string{"orders.>", "refunds.>"}, Partitions: 3}})
			if err != nil {
				t.Fatal(err)
			}
			if len(up.Stream.Partitions) != 3 || len(up.Stream.Config.Subjects) != 2 {
				t.Fatalf("updated %v", up.Stream)
			}
			gs, err := ac.GetStream(ctx, &courierv1.GetStreamRequest{Name: "orders"})
			if err != nil {
				t.Fatal(err)
			}
			var msgs int64
			for _, p := range gs.Stream.Partitions {
				msgs += p.Messages
			}
			if msgs != 1 {
				t.Fatalf("stream holds %d messages, want 1: %v", msgs, gs.Stream)
			}
			_, err = ac.GetStream(ctx, &courierv1.GetStreamRequest{Name: "nope"})
			wantErr(t, err, connect.CodeNotFound, "stream_not_found")
			ls, err := ac.ListStreams(ctx, &courierv1.ListStreamsRequest{})
			if err != nil || len(ls.Streams) != 1 {
				t.Fatalf("list: %v %v", ls, err)
			}

			g, err := ac.CreateGroup(ctx, &courierv1.CreateGroupRequest{Config: &courierv1.GroupConfig{
				Name: "billing", Stream: "orders", Mode: "keyed", MaxDeliveries: 3,
				Backoff: []*durationpb.Duration{durationpb.New(1e9)}}})
			if err != nil {
				t.Fatal(err)
			}
			if g.Group.Kind != "courier" || g.Group.Config.Mode != "keyed" || g.Group.Config.MaxDeliveries != 3 || len(g.Group.Config.Backoff) != 1 {
				t.Fatalf("group %v", g.Group)
			}
			gg, err := ac.GetGroup(ctx, &courierv1.GetGroupRequest{Stream: "orders", Name: "billing"})
			if err != nil || gg.Group.Lag != 1 {
				t.Fatalf("get group: %v %v", gg, err)
			}
			lg, err := ac.ListGroups(ctx, &courierv1.ListGroupsRequest{})
			if err != nil || len(lg.Groups) != 1 || lg.Groups[0].Config.Name != "billing" {
				t.Fatalf("list groups: %v %v", lg, err)
			}
			_, err = ac.DeleteStream(ctx, &courierv1.DeleteStreamRequest{Name: "orders"})
			wantErr(t, err, connect.CodeFailedPrecondition, "stream_has_groups")
			if _, err := ac.DeleteGroup(ctx, &courierv1.DeleteGroupRequest{Stream: "orders", Name: "billing"}); err != nil {
				t.Fatal(err)
			}
			_, err = ac.GetGroup(ctx, &courierv1.GetGroupRequest{Stream: "orders", Name: "billing"})
			wantErr(t, err, connect.CodeNotFound, "group_not_found")
			if _, err := ac.PurgeStream(ctx, &courierv1.PurgeStreamRequest{Name: "orders", All: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := ac.DeleteStream(ctx, &courierv1.DeleteStreamRequest{Name: "orders"}); err != nil {
				t.Fatal(err)
			}
			ls, err = ac.ListStreams(ctx, &courierv1.ListStreamsRequest{})
			if err != nil || len(ls.Streams) != 0 {
				t.Fatalf("list after delete: %v %v", ls, err)
			}
		})
	}
}

func TestAPIAdminReadAndRedrive(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, ac := p.clients(e)
			e.createStream(t, "jobs", "jobs.>")
			if _, err := ac.CreateStream(ctx, &courierv1.CreateStreamRequest{Config: &courierv1.StreamConfig{
				Name: "dlq", Subjects: []string{"dlq.>"}, Partitions: 2}}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "w", Stream: "jobs", DeadLetter: "dlq.jobs"}); err != nil {
				t.Fatal(err)
			}
			e.publishN(t, "jobs.a", 5)

			// ReadMessages pages through a partition.
			r, err := ac.ReadMessages(ctx, &courierv1.ReadMessagesRequest{Stream: "jobs", Offset: 1, MaxMessages: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Messages) != 3 || r.Messages[0].Offset != 1 || string(r.Messages[2].Payload) != "m3" || r.NextOffset != 4 {
				t.Fatalf("read from 1: %v", r)
			}
			r, err = ac.ReadMessages(ctx, &courierv1.ReadMessagesRequest{Stream: "jobs", Offset: r.NextOffset})
			if err != nil || len(r.Messages) != 1 || r.NextOffset != 5 {
				t.Fatalf("read the rest: %v %v", r, err)
			}
			_, err = ac.ReadMessages(ctx, &courierv1.ReadMessagesRequest{Stream: "jobs", Offset: 99})
			wantErr(t, err, connect.CodeOutOfRange, "offset_out_of_range")
			_, err = ac.ReadMessages(ctx, &courierv1.ReadMessagesRequest{Stream: "jobs", Partition: 7})
			wantErr(t, err, connect.CodeInvalidArgument, "invalid_argument")

			// Dead-letter two messages, then redrive every partition.
			c := e.join(t, mc, "jobs", "w", 5)
			for range 5 {
				d := c.delivery()
				action := courierv1.Settle_ACTION_ACK
				if p := string(d.Message.Payload); p == "m1" || p == "m3" {
					action = courierv1.Settle_ACTION_REJECT
				}
				if s := c.settle(d.DeliveryId, action, 0); s.Error != nil {
					t.Fatal(s.Error)
				}
			}
			var letters int64
			waitFor(t, "two dead letters", func() bool {
				si, err := e.srv.StreamInfo("dlq")
				letters = 0
				for _, p := range si.Partitions {
					letters += p.Messages
				}
				return err == nil && letters == 2
			})
			// A letter is stored before its original is settled and counted.
			var gg *courierv1.GetGroupResponse
			waitFor(t, "the group to count its dead letters", func() bool {
				gg, err = ac.GetGroup(ctx, &courierv1.GetGroupRequest{Stream: "jobs", Name: "w"})
				return err == nil && gg.Group.DeadLettered == 2
			})
			if gg.Group.Acked != 3 || gg.Group.Lag != 0 {
				t.Fatalf("group after settles: %v", gg)
			}
			rd, err := ac.Redrive(ctx, &courierv1.RedriveRequest{Stream: "dlq"})
			if err != nil || rd.Moved != 2 || rd.Skipped != 0 {
				t.Fatalf("redrive: %v %v", rd, err)
			}
			redriven := map[string]bool{}
			for range 2 {
				d := c.delivery()
				redriven[string(d.Message.Payload)] = true
				c.settle(d.DeliveryId, courierv1.Settle_ACTION_ACK, 0)
			}
			if !redriven["m1"] || !redriven["m3"] {
				t.Fatalf("redriven %v, want m1 and m3", redriven)
			}
			one := int32(0)
			rd, err = ac.Redrive(ctx, &courierv1.RedriveRequest{Stream: "dlq", Partition: &one})
			if err != nil || rd.Moved != 0 {
				t.Fatalf("second redrive: %v %v", rd, err)
			}
			_, err = ac.Redrive(ctx, &courierv1.RedriveRequest{Stream: "nope"})
			wantErr(t, err, connect.CodeNotFound, "stream_not_found")
		})
	}
}

func TestAPIAdminCompactPurgeAndKafkaGroups(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	mc, ac := e.clients()
	if _, err := ac.CreateStream(ctx, &courierv1.CreateStreamRequest{Config: &courierv1.StreamConfig{
		Name: "kv", Subjects: []string{"kv.>"}, Compact: true}}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		req := pub("kv.x", v)
		req.Message.Key = []byte("k")
		if _, err := mc.Publish(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ac.CompactStream(ctx, &courierv1.CompactStreamRequest{Name: "kv"}); err != nil {
		t.Fatal(err)
	}
	_, err := ac.CompactStream(ctx, &courierv1.CompactStreamRequest{Name: "nope"})
	wantErr(t, err, connect.CodeNotFound, "stream_not_found")

	// A Kafka consumer group's commit is listed with kind "kafka" and lag.
	if err := e.srv.CommitOffsets([]server.Commit{{Group: "kgroup", Stream: "kv", Partition: 0, Offset: 1}}); err != nil {
		t.Fatal(err)
	}
	lg, err := ac.ListGroups(ctx, &courierv1.ListGroupsRequest{Stream: "kv"})
	if err != nil || len(lg.Groups) != 1 {
		t.Fatalf("list groups: %v %v", lg, err)
	}
	if g := lg.Groups[0]; g.Kind != "kafka" || g.Config.Name != "kgroup" || g.Config.Stream != "kv" || g.Lag != 2 {
		t.Fatalf("kafka group %v, want kgroup on kv with lag 2", g)
	}
	_, err = ac.ListGroups(ctx, &courierv1.ListGroupsRequest{Stream: "nope"})
	wantErr(t, err, connect.CodeNotFound, "stream_not_found")

	// Purge below an offset, then read from 0: the read starts at the start.
	if _, err := ac.PurgeStream(ctx, &courierv1.PurgeStreamRequest{Name: "kv", UpTo: 2}); err != nil {
		t.Fatal(err)
	}
	r, err := ac.ReadMessages(ctx, &courierv1.ReadMessagesRequest{Stream: "kv"})
	if err != nil || len(r.Messages) != 1 || string(r.Messages[0].Payload) != "c" || r.NextOffset != 3 {
		t.Fatalf("read after purge: %v %v", r, err)
	}
	_, err = ac.PurgeStream(ctx, &courierv1.PurgeStreamRequest{Name: "kv"})
	wantErr(t, err, connect.CodeInvalidArgument, "invalid_argument")
}
