package api

import (
	"errors"
	"fmt"
	"io"
	"testing"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// A settle of several ids is answered by one SettledBatch with each id's
// own outcome, in the settle's order; the acked ones are done for good.
func TestAPIConsumeBatchedSettle(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			mc, _ := p.clients(e)
			e.jobsGroup(t)
			e.publishN(t, "jobs.a", 5)
			c := e.join(t, mc, "jobs", "w", 10)
			var ids []uint64
			for i := range 5 {
				d := c.delivery()
				if string(d.Message.Payload) != fmt.Sprintf("m%d", i) {
					t.Fatalf("delivery %d: %v", i, d)
				}
				ids = append(ids, d.DeliveryId)
			}
			// ids[1] twice: its second ack is already settled; 999 was never sent.
			s := &courierv1.Settle{DeliveryId: ids[0], Action: courierv1.Settle_ACTION_ACK,
				MoreDeliveryIds: []uint64{ids[1], ids[1], 999, ids[2], ids[3], ids[4]}}
			if err := c.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Settle{Settle: s}}); err != nil {
				t.Fatal(err)
			}
			r, err := c.Receive()
			if err != nil {
				t.Fatal(err)
			}
			got := r.GetSettledBatch().GetSettled()
			want := []struct {
				id     uint64
				reason string
			}{{ids[0], ""}, {ids[1], ""}, {ids[1], "already_settled"}, {999, "unknown_delivery"},
				{ids[2], ""}, {ids[3], ""}, {ids[4], ""}}
			if len(got) != len(want) {
				t.Fatalf("got %v, want %d outcomes", r, len(want))
			}
			for i, w := range want {
				if got[i].GetDeliveryId() != w.id || got[i].GetError().GetReason() != w.reason {
					t.Fatalf("outcome %d: %v, want id %d reason %q", i, got[i], w.id, w.reason)
				}
			}
			gi := e.jobsInfo(t)
			if gi.Acked != 5 || gi.InFlight != 0 {
				t.Fatalf("after the batched ack: %+v", gi)
			}
		})
	}
}

// Deliveries ready at once may share a frame; either way they arrive in
// order with distinct ids.
func TestAPIConsumeDeliveriesInOrder(t *testing.T) {
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	e.jobsGroup(t)
	const n = 200
	e.publishN(t, "jobs.a", n)
	c := e.join(t, mc, "jobs", "w", n)
	seen := map[uint64]bool{}
	for i := range n {
		d := c.delivery()
		if string(d.Message.Payload) != fmt.Sprintf("m%d", i) || seen[d.DeliveryId] {
			t.Fatalf("delivery %d: %v", i, d)
		}
		seen[d.DeliveryId] = true
	}
}

// A quiet settle is answered only with the ids that failed; when none
// did, nothing comes back (the next answer is the next settle's).
func TestAPIConsumeQuietSettle(t *testing.T) {
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	e.jobsGroup(t)
	e.publishN(t, "jobs.a", 4)
	c := e.join(t, mc, "jobs", "w", 10)
	var ids []uint64
	for range 4 {
		ids = append(ids, c.delivery().DeliveryId)
	}
	send := func(s *courierv1.Settle) {
		t.Helper()
		if err := c.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Settle{Settle: s}}); err != nil {
			t.Fatal(err)
		}
	}
	send(&courierv1.Settle{DeliveryId: ids[0], Action: courierv1.Settle_ACTION_ACK, Quiet: true,
		MoreDeliveryIds: []uint64{999, ids[1]}})
	r, err := c.Receive()
	if err != nil {
		t.Fatal(err)
	}
	got := r.GetSettledBatch().GetSettled()
	if len(got) != 1 || got[0].GetDeliveryId() != 999 || got[0].GetError().GetReason() != "unknown_delivery" {
		t.Fatalf("quiet settle answered %v, want only 999 unknown_delivery", r)
	}
	send(&courierv1.Settle{DeliveryId: ids[2], Action: courierv1.Settle_ACTION_ACK, Quiet: true})
	if s := c.settle(ids[3], courierv1.Settle_ACTION_ACK, 0); s.GetError() != nil {
		t.Fatalf("loud ack after a quiet one: %v", s)
	}
	gi := e.jobsInfo(t)
	if gi.Acked != 4 || gi.InFlight != 0 {
		t.Fatalf("after the acks: %+v", gi)
	}
}

// A released delivery comes back first in line and does not count as a
// delivery.
func TestAPIConsumeRelease(t *testing.T) {
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	e.jobsGroup(t)
	e.publishN(t, "jobs.a", 2)
	c := e.join(t, mc, "jobs", "w", 10)
	first, second := c.delivery(), c.delivery()
	if s := c.settle(second.DeliveryId, courierv1.Settle_ACTION_RELEASE, 0); s.GetError() != nil {
		t.Fatalf("release: %v", s)
	}
	again := c.delivery()
	if string(again.GetMessage().GetPayload()) != "m1" || again.GetMessage().GetDeliveries() != 1 {
		t.Fatalf("after the release got %v, want m1 delivered once", again)
	}
	if s := c.settle(second.DeliveryId, courierv1.Settle_ACTION_ACK, 0); s.GetError().GetReason() != "already_settled" {
		t.Fatalf("ack of the released id: %v", s)
	}
	for _, id := range []uint64{first.DeliveryId, again.DeliveryId} {
		if s := c.settle(id, courierv1.Settle_ACTION_ACK, 0); s.GetError() != nil {
			t.Fatal(s)
		}
	}
	gi := e.jobsInfo(t)
	if gi.Delivered != 2 || gi.Redelivered != 0 || gi.Acked != 2 {
		t.Fatalf("group after release and acks: %+v", gi)
	}
}

// A Leave releases the deliveries it names (uncounted), gives the others
// back counted, and ends the stream cleanly.
func TestAPIConsumeLeave(t *testing.T) {
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	e.jobsGroup(t)
	e.publishN(t, "jobs.a", 3)
	c := e.join(t, mc, "jobs", "w", 10)
	c.delivery() // shown: it counts
	unshown1, unshown2 := c.delivery(), c.delivery()
	if err := c.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Leave{
		Leave: &courierv1.Leave{ReleaseDeliveryIds: []uint64{unshown1.DeliveryId, unshown2.DeliveryId, 999}}}}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Receive(); err == nil || !errors.Is(err, io.EOF) {
		t.Fatalf("after the leave: %v, %v; want the stream's clean end", r, err)
	}
	gi := e.jobsInfo(t)
	if gi.Members != 0 || gi.InFlight != 0 || gi.Delivered != 1 || gi.Lag != 3 {
		t.Fatalf("group after the leave: %+v; want 1 delivered (the shown one), 3 to go", gi)
	}
	c2 := e.join(t, mc, "jobs", "w", 10)
	for i := range 3 {
		d := c2.delivery()
		want := int32(1)
		if i == 0 {
			want = 2 // the shown one counts twice
		}
		if d.GetMessage().GetDeliveries() != want {
			t.Fatalf("redelivery %d: %v, want deliveries %d", i, d, want)
		}
	}
}
