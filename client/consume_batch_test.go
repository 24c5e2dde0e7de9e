package client

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestCoalesceKeepsOrderAndRuns(t *testing.T) {
	c1, c2 := &consumeConn{}, &consumeConn{}
	ack := courierv1.Settle_ACTION_ACK
	nack := courierv1.Settle_ACTION_NACK
	q := []queuedSettle{
		{c1, &courierv1.Settle{DeliveryId: 1, Action: ack}},
		{c1, &courierv1.Settle{DeliveryId: 2, Action: ack}},
		{c1, &courierv1.Settle{DeliveryId: 3, Action: nack, Delay: durationpb.New(time.Second)}},
		{c1, &courierv1.Settle{DeliveryId: 4, Action: nack, Delay: durationpb.New(time.Second)}},
		{c1, &courierv1.Settle{DeliveryId: 5, Action: nack, Delay: durationpb.New(time.Minute)}},
		{c1, &courierv1.Settle{DeliveryId: 6, Action: ack}},
		{c2, &courierv1.Settle{DeliveryId: 7, Action: ack}},
		{c2, &courierv1.Settle{DeliveryId: 8, Action: courierv1.Settle_ACTION_TERM, Error: "x"}},
		{c2, &courierv1.Settle{DeliveryId: 9, Action: courierv1.Settle_ACTION_TERM, Error: "y"}},
	}
	got := coalesce(q)
	want := []struct {
		conn *consumeConn
		ids  []uint64
	}{{c1, []uint64{1, 2}}, {c1, []uint64{3, 4}}, {c1, []uint64{5}}, {c1, []uint64{6}},
		{c2, []uint64{7}}, {c2, []uint64{8}}, {c2, []uint64{9}}}
	if len(got) != len(want) {
		t.Fatalf("coalesced into %d settles, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		ids := append([]uint64{got[i].s.DeliveryId}, got[i].s.MoreDeliveryIds...)
		if got[i].conn != w.conn || fmt.Sprint(ids) != fmt.Sprint(w.ids) {
			t.Errorf("settle %d: ids %v, want %v", i, ids, w.ids)
		}
	}
	if q[0].s.MoreDeliveryIds != nil {
		t.Error("coalesce changed a queued settle")
	}
}

func TestCoalesceBoundsIDs(t *testing.T) {
	var q []queuedSettle
	for i := range maxSettleIDs + 10 {
		q = append(q, queuedSettle{nil, &courierv1.Settle{DeliveryId: uint64(i + 1), Action: courierv1.Settle_ACTION_ACK}})
	}
	got := coalesce(q)
	if len(got) != 2 || len(got[0].s.MoreDeliveryIds) != maxSettleIDs-1 || got[1].s.DeliveryId != maxSettleIDs+1 {
		t.Fatalf("coalesced %d settles of %d ids into %d", len(q), maxSettleIDs, len(got))
	}
}

// Many acks at once (coalesced into batched settles) each learn their own
// outcome: a delivery acked twice gets one success and one
// ErrAlreadySettled, and every message ends acked.
func TestConcurrentAcksEachGetTheirOutcome(t *testing.T) {
	e := newEnv(t)
	e.stream(t, "jobs", 1, "jobs.>")
	ctx := ctxT(t)
	if _, err := e.c.CreateGroup(ctx, GroupConfig{Name: "g", Stream: "jobs"}); err != nil {
		t.Fatal(err)
	}
	const n = 64
	for i := range n {
		e.c.PublishAsync(&Message{Subject: "jobs.x", Payload: fmt.Appendf(nil, "%d", i)})
	}
	if err := e.c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	k, err := e.c.Join(ctx, "jobs", "g", MaxInFlight(n))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ds := make([]*Delivery, n)
	for i := range ds {
		if ds[i], err = k.Next(ctx); err != nil {
			t.Fatal(err)
		}
		if string(ds[i].Payload) != fmt.Sprint(i) {
			t.Fatalf("delivery %d: %q", i, ds[i].Payload)
		}
	}
	errs := make([][2]error, n)
	var wg sync.WaitGroup
	for i, d := range ds {
		for j := range 1 + i%2 { // odd ones acked twice
			wg.Go(func() { errs[i][j] = d.Ack(ctx) })
		}
	}
	wg.Wait()
	for i, es := range errs {
		if i%2 == 0 {
			if es[0] != nil {
				t.Errorf("ack of %d: %v", i, es[0])
			}
			continue
		}
		ok, already := 0, 0
		for _, err := range es {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrAlreadySettled):
				already++
			default:
				t.Errorf("ack of %d: %v", i, err)
			}
		}
		if ok != 1 || already != 1 {
			t.Errorf("delivery %d acked twice: %v, want one success and one already settled", i, es)
		}
	}
	gi, err := e.c.Group(ctx, "jobs", "g")
	if err != nil {
		t.Fatal(err)
	}
	if gi.Acked != n || gi.InFlight != 0 {
		t.Fatalf("group after the acks: acked %d, in flight %d", gi.Acked, gi.InFlight)
	}
}
