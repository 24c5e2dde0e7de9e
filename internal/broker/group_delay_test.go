package broker

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// A delayed message is never delivered before its time and is delivered
// at it; messages behind it are not held up.
func TestGroupDeliverAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Hour})
		m := join(t, e.b, "s", "g", 0)
		t0 := time.Now()
		e.pub("s", "late", withDeliverAt(t0.Add(10*time.Second)))
		e.pub("s", "later", withDeliverAt(t0.Add(20*time.Second)))
		e.pub("s", "now")
		e.pub("s", "past", withDeliverAt(t0.Add(-time.Minute)))
		got := grpPayloads(grpQueued(m))
		if !grpEqual(got, []string{"now", "past"}) {
			t.Fatalf("delivered at once: %v, want [now past]", got)
		}
		none(t, m, 10*time.Second-time.Millisecond)
		d := next(t, m)
		if string(d.Payload) != "late" || time.Since(t0) != 10*time.Second || d.Deliveries != 1 {
			t.Fatalf("got %q at %v (Deliveries %d), want late at 10s", d.Payload, time.Since(t0), d.Deliveries)
		}
		if !d.DeliverAt.Equal(t0.Add(10 * time.Second)) {
			t.Errorf("DeliverAt = %v", d.DeliverAt)
		}
		d.Ack()
		none(t, m, 10*time.Second-time.Millisecond)
		d = next(t, m)
		if string(d.Payload) != "later" || time.Since(t0) != 20*time.Second {
			t.Fatalf("got %q at %v, want later at 20s", d.Payload, time.Since(t0))
		}
		d.Ack()
		none(t, m, 30*time.Minute) // now and past come again at the ack wait (1h)
		if in := grpInfo(t, e.b, "s", "g"); in.Lag != 2 {
			t.Fatalf("lag %d, want 2 (now and past unacked)", in.Lag)
		}
	})
}

// A delayed message that becomes due while no member is joined waits for
// one, then is delivered at once.
func TestGroupDeliverAtNoMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		e.pub("s", "d", withDeliverAt(time.Now().Add(time.Second)))
		time.Sleep(time.Minute)
		m := join(t, e.b, "s", "g", 0)
		got := grpQueued(m)
		if len(got) != 1 || string(got[0].Payload) != "d" {
			t.Fatalf("got %v", grpPayloads(got))
		}
		got[0].Ack()
	})
}

// Far-future delayed messages do not count against the read-ahead bound
// (MaxPending), so they do not stall the messages behind them.
func TestGroupDeliverAtDoesNotStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxPending: 2})
		m := join(t, e.b, "s", "g", 0)
		for i := range 10 {
			e.pub("s", num(i), withDeliverAt(time.Now().Add(time.Hour)))
		}
		for i := 10; i < 15; i++ {
			e.pub("s", num(i))
		}
		var got []string
		for range 5 {
			d := next(t, m)
			got = append(got, string(d.Payload))
			d.Ack()
		}
		if !grpEqual(got, grpNums(10, 15)) {
			t.Fatalf("got %v", got)
		}
		time.Sleep(time.Hour)
		got = grpPayloads(grpQueued(m))
		slices.Sort(got) // same deliver-at: any order in a shared group
		if !grpEqual(got, grpNums(0, 10)) {
			t.Fatalf("after the hour: %v", got)
		}
	})
}

// Delayed messages survive a restart and are delivered at their time, not
// earlier, not later.
func TestGroupDeliverAtAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		m := join(t, e.b, "s", "g", 0)
		t0 := time.Now()
		e.pub("s", "d1", withDeliverAt(t0.Add(time.Minute)))
		e.pub("s", "d2", withDeliverAt(t0.Add(2*time.Minute)))
		e.pub("s", "now")
		d := next(t, m)
		d.Ack()
		time.Sleep(20 * time.Second)
		e.restart()
		select {
		case <-m.Done():
		default:
			t.Fatal("member of the closed broker not ended")
		}
		m = join(t, e.b, "s", "g", 0)
		none(t, m, 40*time.Second-time.Millisecond)
		d = next(t, m)
		if string(d.Payload) != "d1" || time.Since(t0) != time.Minute {
			t.Fatalf("got %q at %v, want d1 at 1m", d.Payload, time.Since(t0))
		}
		d.Ack()
		time.Sleep(30 * time.Second)
		e.restart() // at 1m30s
		m = join(t, e.b, "s", "g", 0)
		none(t, m, 30*time.Second-time.Millisecond)
		d = next(t, m)
		if string(d.Payload) != "d2" || time.Since(t0) != 2*time.Minute {
			t.Fatalf("got %q at %v, want d2 at 2m", d.Payload, time.Since(t0))
		}
		d.Ack()
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		none(t, m, time.Hour)
	})
}

// A delayed message that became due while the broker was down is
// delivered at once after the restart.
func TestGroupDeliverAtDueDuringDowntime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		e.pub("s", "d", withDeliverAt(time.Now().Add(time.Minute)))
		e.b.Close()
		time.Sleep(2 * time.Minute)
		e.b = nil
		e.open()
		m := join(t, e.b, "s", "g", 0)
		got := grpQueued(m)
		if len(got) != 1 || string(got[0].Payload) != "d" {
			t.Fatalf("got %v", grpPayloads(got))
		}
	})
}

// In a keyed group, a delayed message takes its key's turn when it is
// due: it waits behind a message of the key that is out.
func TestGroupDeliverAtKeyed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Keyed, AckWait: time.Hour})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "d", withKey("k"), withDeliverAt(time.Now().Add(time.Second)))
		e.pub("s", "a", withKey("k"))
		a := next(t, m)
		time.Sleep(2 * time.Second)
		if got := grpQueued(m); len(got) != 0 {
			t.Fatalf("delivered %v while a of the same key is out", grpPayloads(got))
		}
		a.Ack()
		d := next(t, m)
		if string(d.Payload) != "d" {
			t.Fatalf("got %q", d.Payload)
		}
	})
}

// Messages of one key with the same deliver-at time keep their publish
// order in a keyed group (and an exclusive group delivers them in order):
// the timer heap must not reorder entries that are due at the same time.
func TestGroupDeliverAtSameTimeKeepsKeyOrder(t *testing.T) {
	for _, mode := range []GroupMode{Keyed, Exclusive} {
		t.Run(string(mode), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.stream(StreamConfig{Name: "s"})
				e.group(GroupConfig{Name: "g", Stream: "s", Mode: mode})
				m := join(t, e.b, "s", "g", 1)
				at := time.Now().Add(time.Minute)
				for i := range 20 {
					e.pub("s", num(i), withKey("k"), withDeliverAt(at))
				}
				time.Sleep(time.Minute)
				var got []string
				for range 20 {
					d := next(t, m)
					got = append(got, string(d.Payload))
					d.Ack()
				}
				if !grpEqual(got, grpNums(0, 20)) {
					t.Fatalf("key k, same deliver-at: delivered in the order %v, want publish order", got)
				}
			})
		})
	}
}
