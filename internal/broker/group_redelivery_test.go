package broker

import (
	"testing"
	"testing/synctest"
	"time"
)

// An unacked message comes back after the ack wait plus the backoff of
// the failed delivery, with its delivery count going up; the last backoff
// step repeats.
func TestGroupRedeliveryAckWaitBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: 10 * time.Second,
			Backoff: []time.Duration{time.Second, 5 * time.Second}})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		d := next(t, m)
		if d.Deliveries != 1 {
			t.Fatalf("first delivery: Deliveries = %d, want 1", d.Deliveries)
		}
		last := time.Now()
		// Delivery n failed at last+AckWait; delivery n+1 comes backoff[n-1] later.
		for n, wait := range []time.Duration{11 * time.Second, 15 * time.Second, 15 * time.Second, 15 * time.Second} {
			none(t, m, wait-time.Millisecond)
			d = next(t, m)
			if got := time.Since(last); got != wait {
				t.Fatalf("delivery %d came %v after delivery %d, want %v", n+2, got, n+1, wait)
			}
			if d.Deliveries != n+2 {
				t.Fatalf("delivery %d: Deliveries = %d", n+2, d.Deliveries)
			}
			last = time.Now()
		}
		if err := d.Ack(); err != nil {
			t.Fatal(err)
		}
		none(t, m, time.Minute)
		in := grpInfo(t, e.b, "s", "g")
		if in.Delivered != 5 || in.Redelivered != 4 || in.Acked != 1 || in.InFlight != 0 || in.Lag != 0 {
			t.Fatalf("info: %+v", in)
		}
	})
}

// Without a backoff schedule, a timed-out message is redelivered right at
// the ack wait.
func TestGroupRedeliveryNoBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: 3 * time.Second})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		next(t, m)
		t0 := time.Now()
		d := next(t, m)
		if time.Since(t0) != 3*time.Second || d.Deliveries != 2 {
			t.Fatalf("redelivery after %v with Deliveries %d; want 3s and 2", time.Since(t0), d.Deliveries)
		}
		d.Ack()
	})
}

// Nack with a delay redelivers after exactly that delay; Nack(0) uses
// the backoff schedule, or redelivers at once without one.
func TestGroupNackDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.stream(StreamConfig{Name: "t"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Hour, Backoff: []time.Duration{2 * time.Second}})
		e.group(GroupConfig{Name: "g", Stream: "t", AckWait: time.Hour})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		d := next(t, m)

		if err := d.Nack(7 * time.Second); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		none(t, m, 7*time.Second-time.Millisecond)
		d = next(t, m)
		if time.Since(t0) != 7*time.Second || d.Deliveries != 2 {
			t.Fatalf("nack(7s): redelivered after %v, Deliveries %d", time.Since(t0), d.Deliveries)
		}

		if err := d.Nack(0); err != nil { // backoff[0] = 2s
			t.Fatal(err)
		}
		t0 = time.Now()
		d = next(t, m)
		if time.Since(t0) != 2*time.Second || d.Deliveries != 3 {
			t.Fatalf("nack(0) with backoff: redelivered after %v, Deliveries %d", time.Since(t0), d.Deliveries)
		}
		d.Ack()

		mt := join(t, e.b, "t", "g", 0)
		e.pub("t", "b")
		d = next(t, mt)
		if err := d.Nack(0); err != nil {
			t.Fatal(err)
		}
		t0 = time.Now()
		d = next(t, mt)
		if time.Since(t0) != 0 || d.Deliveries != 2 {
			t.Fatalf("nack(0) without backoff: redelivered after %v, Deliveries %d", time.Since(t0), d.Deliveries)
		}
		d.Ack()
	})
}

// InProgress restarts the ack wait: the message is not redelivered at the
// first deadline, only a full ack wait after the last InProgress.
func TestGroupInProgressExtendsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: 10 * time.Second})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		d := next(t, m)
		t0 := time.Now()
		time.Sleep(8 * time.Second)
		if err := d.InProgress(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(8 * time.Second)
		if err := d.InProgress(); err != nil { // at 16s
			t.Fatal(err)
		}
		none(t, m, 10*time.Second-time.Millisecond)
		d2 := next(t, m)
		if time.Since(t0) != 26*time.Second || d2.Deliveries != 2 {
			t.Fatalf("redelivered after %v (want 26s), Deliveries %d", time.Since(t0), d2.Deliveries)
		}
		if err := d.InProgress(); !grpIsSettled(err) {
			t.Fatalf("InProgress on a stale delivery: %v, want ErrAlreadySettled", err)
		}
		if err := d2.Ack(); err != nil {
			t.Fatal(err)
		}
	})
}

// Settling a delivery that timed out and was delivered again fails with
// ErrAlreadySettled, whatever the kind; so does settling twice. The
// current delivery settles normally.
func TestGroupStaleSettle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Second, DeadLetter: "dlq"})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		old := next(t, m)
		cur := next(t, m) // after the ack wait
		if cur.Deliveries != 2 {
			t.Fatalf("Deliveries = %d", cur.Deliveries)
		}
		for name, f := range map[string]func() error{
			"ack":        old.Ack,
			"nack":       func() error { return old.Nack(0) },
			"term":       func() error { return old.Term("x") },
			"reject":     func() error { return old.Reject("x") },
			"inprogress": old.InProgress,
		} {
			if err := f(); !grpIsSettled(err) {
				t.Errorf("%s on a stale delivery: %v, want ErrAlreadySettled", name, err)
			}
		}
		if err := cur.Ack(); err != nil {
			t.Fatalf("ack current: %v", err)
		}
		if err := cur.Ack(); !grpIsSettled(err) {
			t.Fatalf("second ack: %v, want ErrAlreadySettled", err)
		}
		if err := cur.Nack(0); !grpIsSettled(err) {
			t.Fatalf("nack after ack: %v, want ErrAlreadySettled", err)
		}
		none(t, m, time.Minute)
		if in := grpInfo(t, e.b, "s", "g"); in.Acked != 1 || in.Lag != 0 || in.DeadLettered != 0 {
			t.Fatalf("info: %+v", in)
		}
	})
}

// A member that does not read its channel for longer than the ack wait
// must not stall the group. (Before 55d1a48 the timer loop redelivered the
// timed-out message to the same member while the stale delivery still
// filled its channel, capacity MaxInFlight, and blocked sending on it
// while holding the group mutex: every Ack, Join, GroupInfo and Close of
// the group then blocked.) Reading and settling the stale delivery fails
// with ErrAlreadySettled, and the message then comes again. (Since the
// pump, an offer the member does not take is withdrawn at each ack wait
// and never counts; the member then reads the current one.)
func TestGroupSlowReaderDoesNotBlockGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Second})
		m := join(t, e.b, "s", "g", 1)
		e.pub("s", "a")
		time.Sleep(3 * time.Second) // the member does not read
		synctest.Wait()
		g, _ := e.b.group("s", "g")
		if !g.mu.TryLock() {
			for range 4 { // unblock the sender so that the test can end
				grpQueued(m)
			}
			t.Fatal("group mutex held while the member is not reading: deliverLocked blocks sending " +
				"a redelivery into a channel still full of a stale delivery")
		}
		g.mu.Unlock()
		// Each ack wait withdraws the offer and makes it again; an offer
		// the consumer never took is not a delivery.
		in := grpInfo(t, e.b, "s", "g")
		if in.InFlight != 1 || in.Redelivered != 0 {
			t.Errorf("after 3 ack waits: InFlight %d, Redelivered %d; want 1 and 0", in.InFlight, in.Redelivered)
		}
		d := next(t, m) // the current offer, never a stale one
		if d.Deliveries != 1 || string(d.Payload) != "a" {
			t.Fatalf("first read: %q Deliveries %d, want a, 1", d.Payload, d.Deliveries)
		}
		if err := d.Ack(); err != nil {
			t.Fatalf("ack of the delivery read: %v", err)
		}
		none(t, m, time.Minute)
	})
}

// The realistic case: a member with MaxInFlight 2 takes one message and
// works on it for longer than the ack wait while the second one waits in
// its channel. Both time out and are redelivered to it (it is the only
// member); the second redelivery finds the channel full and the group
// mutex stays held until the member reads again.
func TestGroupSlowWorkerDoesNotBlockGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Second})
		m := join(t, e.b, "s", "g", 2)
		e.pub("s", "a")
		e.pub("s", "b")
		d := next(t, m)
		time.Sleep(2 * time.Second) // working on "a" past the ack wait
		synctest.Wait()
		g, _ := e.b.group("s", "g")
		blocked := !g.mu.TryLock()
		if !blocked {
			g.mu.Unlock()
		}
		// Read first (an Ack would wait for the mutex forever), then settle.
		var got []*Delivery
		for range 4 {
			got = append(got, grpQueued(m)...)
		}
		if err := d.Ack(); err != nil && !grpIsSettled(err) {
			t.Errorf("ack: %v", err)
		}
		for _, x := range got {
			x.Ack()
		}
		if blocked {
			t.Errorf("group mutex held while a member works past the ack wait: a redelivery is " +
				"sent into the member's channel, which still holds a stale delivery")
		}
	})
}
