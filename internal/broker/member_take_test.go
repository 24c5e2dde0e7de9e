package broker

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// grpOne makes stream s and group g on it (gc with its name and stream
// filled in), and joins a member with max in flight mif.
func grpOne(t *testing.T, gc GroupConfig, mif int) (*env, *Member) {
	t.Helper()
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s"})
	gc.Name, gc.Stream = "g", "s"
	e.group(gc)
	return e, join(t, e.b, "s", "g", mif)
}

// grpTakeAll waits for the bubble to idle, then takes what is queued.
func grpTakeAll(m *Member) []*Delivery {
	synctest.Wait()
	return m.Take(nil, 1<<20)
}

func TestMemberTakeHandsEverythingQueuedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, m := grpOne(t, GroupConfig{AckWait: time.Hour}, 0)
		for _, p := range []string{"a", "b", "c", "d", "e"} {
			e.pub("s", p)
		}
		synctest.Wait()
		select {
		case <-m.Ready():
		default:
			t.Fatal("no ready signal with deliveries queued")
		}
		ds := m.Take(nil, 3)
		if got := grpPayloads(ds); len(got) != 3 || got[0] != "a" || got[2] != "c" {
			t.Fatalf("first take %v, want a b c", got)
		}
		select { // stopped at max: the caller is told to come back
		case <-m.Ready():
		default:
			t.Fatal("no ready signal with deliveries left after a bounded take")
		}
		ds = m.Take(ds, 10)
		if got := grpPayloads(ds); len(got) != 5 || got[3] != "d" || got[4] != "e" {
			t.Fatalf("after the second take %v, want a..e", got)
		}
		if more := m.Take(nil, 10); len(more) != 0 {
			t.Fatalf("third take %d, want none", len(more))
		}
		for _, d := range ds {
			if d.Deliveries != 1 {
				t.Fatalf("%s: Deliveries %d, want 1", d.Payload, d.Deliveries)
			}
		}
		if in := grpInfo(t, e.b, "s", "g"); in.Delivered != 5 || in.InFlight != 5 {
			t.Fatalf("info %+v", in)
		}
		if errs := SettleAll(ds, Settlement{Outcome: OutcomeAck}); errs != nil {
			t.Fatalf("settle all: %v", errs)
		}
		if in := grpInfo(t, e.b, "s", "g"); in.Acked != 5 || in.InFlight != 0 || in.Lag != 0 {
			t.Fatalf("info after acks %+v", in)
		}
	})
}

// A delivery taken back while still queued (its ack wait passed) is not
// handed over: Take hands each message once, as its current delivery.
func TestMemberTakeDropsStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, m := grpOne(t, GroupConfig{AckWait: time.Second}, 0)
		e.pub("s", "x")
		time.Sleep(3500 * time.Millisecond) // three ack waits pass untaken
		ds := grpTakeAll(m)
		if len(ds) != 1 || ds[0].Deliveries != 1 {
			t.Fatalf("took %d (%+v), want x once, delivered once", len(ds), ds)
		}
		if err := ds[0].Ack(); err != nil {
			t.Fatal(err)
		}
	})
}

// SettleAll gives each delivery its own outcome: one already settled
// fails alone.
func TestSettleAllReportsPerDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, m := grpOne(t, GroupConfig{AckWait: time.Hour}, 0)
		for _, p := range []string{"a", "b", "c"} {
			e.pub("s", p)
		}
		ds := grpTakeAll(m)
		if len(ds) != 3 {
			t.Fatalf("took %d", len(ds))
		}
		if err := ds[1].Ack(); err != nil {
			t.Fatal(err)
		}
		errs := SettleAll(ds, Settlement{Outcome: OutcomeNack, Delay: time.Minute})
		if len(errs) != 3 || errs[0] != nil || !errors.Is(errs[1], ErrAlreadySettled) || errs[2] != nil {
			t.Fatalf("errs %v, want only the second already settled", errs)
		}
		if errs := SettleAll(ds[:1], Settlement{Outcome: Outcome(99)}); len(errs) != 1 || !errors.Is(errs[0], ErrInvalid) {
			t.Fatalf("unknown outcome: %v", errs)
		}
		time.Sleep(2 * time.Minute)
		again := grpTakeAll(m)
		if got := grpPayloads(again); len(got) != 2 || got[0] != "a" || got[1] != "c" {
			t.Fatalf("redelivered %v, want a c", got)
		}
		if again[0].Deliveries != 2 {
			t.Fatalf("Deliveries %d, want 2", again[0].Deliveries)
		}
	})
}

// A released delivery does not count: with MaxDeliveries 1 the message
// is given again (first in line) rather than dead-lettered.
func TestReleaseDoesNotCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{MaxDeliveries: 1, AckWait: time.Hour}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		e.pub("orders.a", "1")
		e.pub("orders.a", "2")
		ds := grpTakeAll(m)
		if len(ds) != 2 {
			t.Fatalf("took %d", len(ds))
		}
		if err := ds[1].Release(); err != nil {
			t.Fatal(err)
		}
		if err := ds[1].Ack(); !errors.Is(err, ErrAlreadySettled) {
			t.Fatalf("ack after release: %v, want already settled", err)
		}
		again := grpTakeAll(m)
		if len(again) != 1 || string(again[0].Payload) != "2" || again[0].Deliveries != 1 {
			t.Fatalf("after release took %+v, want 2 with Deliveries 1", again)
		}
		if errs := SettleAll(append(again, ds[0]), Settlement{Outcome: OutcomeAck}); errs != nil {
			t.Fatal(errs)
		}
		if in := grpInfo(t, e.b, "orders", "g"); in.DeadLettered != 0 || in.Acked != 2 || in.Delivered != 2 || in.Redelivered != 0 {
			t.Fatalf("info %+v", in)
		}
	})
}

// A member read with Take never starts a pump, and Leave still returns
// its deliveries to the group.
func TestTakeMemberLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, a := grpOne(t, GroupConfig{AckWait: time.Hour}, 0)
		e.pub("s", "x")
		e.pub("s", "y")
		if ds := grpTakeAll(a); len(ds) != 2 {
			t.Fatalf("took %d", len(ds))
		}
		a.Leave()
		b := join(t, e.b, "s", "g", 0)
		ds := grpTakeAll(b)
		if got := grpPayloads(ds); len(got) != 2 || got[0] != "x" || ds[0].Deliveries != 2 {
			t.Fatalf("after leave took %v", got)
		}
		b.Leave()
		_ = b.C() // after Leave, C starts no pump (goleak checks)
	})
}

// A pull member is offered deliveries only while it wants them; what it
// wanted but did not take goes back, uncounted, and a plain member gets
// the rest meanwhile.
func TestPullMemberTakesOnlyWhatItWants(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, plain := grpOne(t, GroupConfig{AckWait: time.Hour}, 2)
		p, err := e.b.JoinPull("s", "g")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			e.pub("s", num(i))
		}
		if got := grpTakeAll(plain); len(got) != 2 {
			t.Fatalf("plain member took %d, want its max in flight 2", len(got))
		}
		if got := grpTakeAll(p); len(got) != 0 {
			t.Fatalf("pull member took %d without asking", len(got))
		}
		p.Want(2)
		got := grpTakeAll(p)
		if len(got) != 2 || got[0].Deliveries != 1 {
			t.Fatalf("pull member wanting 2 took %d", len(got))
		}
		p.Want(1)
		synctest.Wait()
		p.Want(0) // the one queued goes back
		if more := grpTakeAll(p); len(more) != 0 {
			t.Fatalf("after want 0, took %d", len(more))
		}
		if in := grpInfo(t, e.b, "s", "g"); in.Delivered != 4 || in.InFlight != 4 {
			t.Fatalf("info %+v: the given-back one must not count", in)
		}
		p.Want(5)
		last := grpTakeAll(p)
		if len(last) != 1 || last[0].Deliveries != 1 || string(last[0].Payload) != num(4) {
			t.Fatalf("took %v again", grpPayloads(last))
		}
	})
}

// A member at its max in flight gets the next message as soon as one is
// settled, as with AMQP's prefetch: a consumer that holds most of its
// window while it waits for more is never stalled.
func TestFullMemberGetsTheNextAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, m := grpOne(t, GroupConfig{AckWait: time.Hour}, 8)
		for i := range 12 {
			e.pub("s", num(i))
		}
		ds := grpTakeAll(m)
		if len(ds) != 8 {
			t.Fatalf("took %d, want the max in flight 8", len(ds))
		}
		for i := range 4 {
			if err := ds[i].Ack(); err != nil {
				t.Fatal(err)
			}
			if got := grpPayloads(grpTakeAll(m)); len(got) != 1 || got[0] != num(8+i) {
				t.Fatalf("after ack %d took %v, want %s alone", i, got, num(8+i))
			}
		}
	})
}
