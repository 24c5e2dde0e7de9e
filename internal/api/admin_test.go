package api

import (
	"testing"

	"connectrpc.com/connect/v2"
	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

func TestAPIAdminStreamsAndGroups(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, ac := e.clients(p.opts...)
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
