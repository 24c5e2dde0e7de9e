package broker

import (
	"testing"
	"testing/synctest"
	"time"
)

// An ack above the floor is stored once the floor has not passed it for
// a period; one the floor passes sooner is never stored.
func TestAckAboveFloorStoredAfterAPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, m := grpOne(t, GroupConfig{AckWait: time.Hour}, 0)
		for i := range 5 {
			e.pub("s", num(i))
		}
		ds := grpTakeAll(m)
		if len(ds) != 5 {
			t.Fatalf("took %d", len(ds))
		}
		g, err := e.b.group("s", "g")
		if err != nil {
			t.Fatal(err)
		}
		stored := func(off int64) bool {
			g.mu.Lock()
			defer g.mu.Unlock()
			_, ok := g.parts[0].acks.stored[off]
			return ok
		}
		hasKey := func(off int64) bool {
			_, err := e.b.kv.Get(g.ackKey(0, off))
			return err == nil
		}
		mustAck := func(d *Delivery) {
			if err := d.Ack(); err != nil {
				t.Fatal(err)
			}
		}
		mustAck(ds[1]) // above the floor (0), which passes it within the period
		time.Sleep(DefaultAckHold / 2)
		mustAck(ds[0])
		time.Sleep(3 * DefaultAckHold)
		synctest.Wait()
		if stored(1) {
			t.Fatal("offset 1 stored, though the floor passed it within the period")
		}
		mustAck(ds[3]) // above the floor (2), which stays for two periods
		time.Sleep(5 * DefaultAckHold / 2)
		synctest.Wait()
		if !stored(3) || !hasKey(3) {
			t.Fatalf("offset 3 acked above the floor for two periods: stored %v, key %v", stored(3), hasKey(3))
		}
		mustAck(ds[2]) // the floor passes 3
		mustAck(ds[4])
		if stored(3) || hasKey(3) {
			t.Fatalf("the floor passed offset 3: stored %v, key %v", stored(3), hasKey(3))
		}
		if in := grpInfo(t, e.b, "s", "g"); in.Lag != 0 {
			t.Fatalf("lag %d", in.Lag)
		}
	})
}

// With a negative AckHold an ack above the floor is written at once.
func TestAckHoldNegativeWritesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.b.opts.AckHold = -1
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Hour})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", num(0))
		e.pub("s", num(1))
		ds := grpTakeAll(m)
		if len(ds) != 2 {
			t.Fatalf("took %d", len(ds))
		}
		if err := ds[1].Ack(); err != nil {
			t.Fatal(err)
		}
		g, err := e.b.group("s", "g")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.b.kv.Get(g.ackKey(0, 1)); err != nil {
			t.Fatalf("the ack above the floor is not written at once: %v", err)
		}
	})
}
