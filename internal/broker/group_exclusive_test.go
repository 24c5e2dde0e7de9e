package broker

import (
	"testing"
	"testing/synctest"
	"time"
)

// Only the active (first) member receives; the standbys get nothing.
func TestGroupExclusiveOnlyActiveReceives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s", Partitions: 3})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Exclusive, MaxInFlight: 4})
		a := join(t, e.b, "s", "g", 0)
		b := join(t, e.b, "s", "g", 0)
		c := join(t, e.b, "s", "g", 0)
		for i := range 30 {
			e.pub("s", num(i), withKey(num(i)))
		}
		n := 0
		for n < 30 {
			got := grpQueued(a)
			if len(got) == 0 {
				t.Fatalf("a stalled at %d", n)
			}
			if len(got) > 4 {
				t.Fatalf("a holds %d, max 4", len(got))
			}
			if x := append(grpQueued(b), grpQueued(c)...); len(x) != 0 {
				t.Fatalf("standbys got %v", grpPayloads(x))
			}
			n += len(got)
			grpAckAll(t, got)
		}
		if x := append(grpQueued(b), grpQueued(c)...); len(x) != 0 {
			t.Fatalf("standbys got %v", grpPayloads(x))
		}
	})
}

// When the active member leaves, the first standby takes over at once and
// gets the unacked messages again, in order, then the rest.
func TestGroupExclusiveFailoverOnLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Exclusive, MaxInFlight: 5, AckWait: time.Hour})
		a := join(t, e.b, "s", "g", 0)
		b := join(t, e.b, "s", "g", 0)
		c := join(t, e.b, "s", "g", 0)
		for i := range 8 {
			e.pub("s", num(i))
		}
		got := grpRecvN(t, a, 5)
		got[0].Ack()
		got[2].Ack()
		a.Leave()
		gb := grpQueued(b)
		if p := grpPayloads(gb); !grpEqual(p, []string{num(1), num(3), num(4), num(5), num(6)}) {
			t.Fatalf("b got %v at the failover", p)
		}
		for _, d := range gb[:3] {
			if d.Deliveries != 2 {
				t.Errorf("%q: Deliveries %d, want 2", d.Payload, d.Deliveries)
			}
		}
		if x := grpQueued(c); len(x) != 0 {
			t.Fatalf("c got %v", grpPayloads(x))
		}
		if err := got[1].Ack(); !grpIsSettled(err) {
			t.Errorf("ack by the member that left: %v", err)
		}
		grpAckAll(t, gb)
		d := next(t, b)
		if string(d.Payload) != num(7) {
			t.Fatalf("got %q", d.Payload)
		}
		d.Ack()
		// a standby leaving changes nothing
		c.Leave()
		e.pub("s", "z")
		if d := next(t, b); string(d.Payload) != "z" {
			t.Fatalf("got %q", d.Payload)
		}
	})
}

// When the active member lets the ack wait pass, the next member takes
// over with every message the first had out; the first becomes a standby
// and its late settles fail.
func TestGroupExclusiveFailoverOnAckWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Exclusive, MaxInFlight: 3, AckWait: 10 * time.Second})
		a := join(t, e.b, "s", "g", 0)
		b := join(t, e.b, "s", "g", 0)
		c := join(t, e.b, "s", "g", 0)
		for i := range 5 {
			e.pub("s", num(i))
		}
		t0 := time.Now()
		ga := grpRecvN(t, a, 3)
		time.Sleep(10*time.Second - time.Millisecond)
		if x := append(grpQueued(b), grpQueued(c)...); len(x) != 0 {
			t.Fatalf("standbys got %v before the ack wait", grpPayloads(x))
		}
		d := next(t, b)
		if time.Since(t0) != 10*time.Second {
			t.Fatalf("takeover after %v", time.Since(t0))
		}
		gb := append([]*Delivery{d}, grpQueued(b)...)
		if p := grpPayloads(gb); !grpEqual(p, grpNums(0, 3)) {
			t.Fatalf("b got %v at the takeover, want %v", p, grpNums(0, 3))
		}
		for _, d := range gb {
			if d.Deliveries != 2 {
				t.Errorf("%q: Deliveries %d", d.Payload, d.Deliveries)
			}
		}
		if x := append(grpQueued(a), grpQueued(c)...); len(x) != 0 {
			t.Fatalf("a or c got %v after the takeover", grpPayloads(x))
		}
		for _, d := range ga {
			if err := d.Ack(); !grpIsSettled(err) {
				t.Errorf("late ack by the demoted member: %v", err)
			}
		}
		grpAckAll(t, gb)
		rest := grpQueued(b)
		if p := grpPayloads(rest); !grpEqual(p, grpNums(3, 5)) {
			t.Fatalf("b got %v after acking", p)
		}
		grpAckAll(t, rest)
		// Now b stops acking: c is next (a went to the back).
		e.pub("s", "x")
		next(t, b)
		time.Sleep(10 * time.Second)
		if x := grpQueued(a); len(x) != 0 {
			t.Fatalf("a (demoted) got %v before c", grpPayloads(x))
		}
		got := grpQueued(c)
		if len(got) != 1 || string(got[0].Payload) != "x" {
			t.Fatalf("c got %v", grpPayloads(got))
		}
		got[0].Ack()
	})
}

// The only member of an exclusive group that lets the ack wait pass gets
// the message again (there is nobody to take over).
func TestGroupExclusiveSingleMemberAckWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Exclusive, AckWait: time.Second})
		a := join(t, e.b, "s", "g", 0)
		e.pub("s", "x")
		next(t, a)
		d := next(t, a)
		if d.Deliveries != 2 {
			t.Fatalf("Deliveries %d", d.Deliveries)
		}
		d.Ack()
		none(t, a, time.Minute)
	})
}

// Exclusive delivery is in offset order within a partition, also across a
// failover.
func TestGroupExclusiveOrderAcrossFailovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Exclusive, MaxInFlight: 10, AckWait: time.Hour})
		ms := []*Member{join(t, e.b, "s", "g", 0), join(t, e.b, "s", "g", 0), join(t, e.b, "s", "g", 0)}
		for i := range 60 {
			e.pub("s", num(i))
		}
		var acked []string
		for round := 0; len(acked) < 60; round++ {
			active := ms[0]
			got := grpQueued(active)
			if len(got) == 0 {
				t.Fatalf("round %d: nothing delivered", round)
			}
			// ack the first half in order, then leave with the rest out
			h := (len(got) + 1) / 2
			for _, d := range got[:h] {
				if len(acked) > 0 && string(d.Payload) <= acked[len(acked)-1] {
					t.Fatalf("round %d: %q after %q", round, d.Payload, acked[len(acked)-1])
				}
				d.Ack()
				acked = append(acked, string(d.Payload))
			}
			active.Leave()
			ms = append(ms[1:], join(t, e.b, "s", "g", 0))
		}
		if !grpEqual(acked, grpNums(0, 60)) {
			t.Fatalf("acked %v", acked)
		}
	})
}
