package broker

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// A restart keeps the group's configuration.
func TestGroupRestartKeepsConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s", Subjects: []string{"s.>"}, Partitions: 3})
		cfgs := []GroupConfig{
			{Name: "a", Stream: "s", Mode: Keyed, Filter: "s.x.*", AckWait: 7 * time.Second,
				Backoff: []time.Duration{time.Second, time.Minute}, MaxDeliveries: 4, DeadLetter: "dlq.a",
				MaxInFlight: 9, MaxPending: 99, Start: Start{Kind: StartLatest}},
			{Name: "b", Stream: "s", Mode: Exclusive},
			{Name: "c", Stream: "s", Start: Start{Kind: StartTime, Time: time.Now().Add(-time.Hour)}},
		}
		want := map[string]GroupConfig{}
		for _, c := range cfgs {
			in, err := e.b.CreateGroup(c)
			if err != nil {
				t.Fatal(err)
			}
			want[c.Name] = in.Config
		}
		e.restart()
		got := e.b.Groups("s")
		if len(got) != 3 {
			t.Fatalf("%d groups after restart", len(got))
		}
		for _, in := range got {
			w := want[in.Config.Name]
			if !grpSameConfig(in.Config, w) {
				t.Errorf("group %s after restart:\n got %+v\nwant %+v", w.Name, in.Config, w)
			}
		}
	})
}

func grpSameConfig(a, b GroupConfig) bool {
	return a.Name == b.Name && a.Stream == b.Stream && a.Mode == b.Mode && a.Filter == b.Filter &&
		a.Start.Kind == b.Start.Kind && a.Start.Offset == b.Start.Offset && a.Start.Time.Equal(b.Start.Time) &&
		a.AckWait == b.AckWait && slices.Equal(a.Backoff, b.Backoff) && a.MaxDeliveries == b.MaxDeliveries &&
		a.DeadLetter == b.DeadLetter && a.MaxInFlight == b.MaxInFlight && a.MaxPending == b.MaxPending
}

// A restart keeps the cursor: acked messages (also acked out of order)
// are not delivered again, unacked ones are, in order.
func TestGroupRestartKeepsCursors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Exclusive})
		m := join(t, e.b, "s", "g", 0)
		for i := range 10 {
			e.pub("s", num(i))
		}
		ds := grpRecvN(t, m, 10)
		for _, i := range []int{0, 1, 2, 4, 6, 9} {
			ds[i].Ack()
		}
		if in := grpInfo(t, e.b, "s", "g"); in.Lag != 4 {
			t.Fatalf("lag %d before restart", in.Lag)
		}
		e.restart()
		if in := grpInfo(t, e.b, "s", "g"); in.Lag != 4 {
			t.Fatalf("lag %d after restart, want 4", in.Lag)
		}
		m = join(t, e.b, "s", "g", 0)
		got := grpQueued(m)
		if p := grpPayloads(got); !grpEqual(p, []string{num(3), num(5), num(7), num(8)}) {
			t.Fatalf("after restart: %v", p)
		}
		for _, d := range got {
			if d.Deliveries != 2 {
				t.Errorf("%q: Deliveries %d, want 2", d.Payload, d.Deliveries)
			}
		}
		grpAckAll(t, got)
		e.pub("s", num(10))
		d := next(t, m)
		if string(d.Payload) != num(10) {
			t.Fatalf("got %q", d.Payload)
		}
		d.Ack()
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		none(t, m, time.Minute)
		if in := grpInfo(t, e.b, "s", "g"); in.Lag != 0 {
			t.Fatalf("lag %d", in.Lag)
		}
	})
}

// A message delivered twice before a restart has Deliveries 3 on its next
// delivery; MaxDeliveries counts across the restart.
func TestGroupRestartKeepsDeliveryCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.stream(StreamConfig{Name: "dlq"})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxDeliveries: 4, DeadLetter: "dlq", AckWait: time.Minute})
		m := join(t, e.b, "s", "g", 0)
		ack := e.pub("s", "a")
		e.pub("s", "b")
		ds := grpRecvN(t, m, 2)
		ds[0].Nack(0)
		ds[1].Ack()
		d := next(t, m)
		if d.Deliveries != 2 {
			t.Fatalf("Deliveries %d", d.Deliveries)
		}
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		d = next(t, m)
		if string(d.Payload) != "a" || d.Deliveries != 3 {
			t.Fatalf("after restart: %q with Deliveries %d, want a with 3", d.Payload, d.Deliveries)
		}
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		d = next(t, m)
		if d.Deliveries != 4 {
			t.Fatalf("after second restart: Deliveries %d, want 4", d.Deliveries)
		}
		d.Nack(0)
		var ls []*Message
		grpWaitFor(t, time.Second, "dead letter", func() bool {
			ls = grpStreamMsgs(t, e.b, "dlq")
			return len(ls) == 1
		})
		grpCheckDLQ(t, ls[0], ack, "s", "g", ReasonMaxDeliveries, 4, "")
		none(t, m, time.Hour)
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		none(t, m, time.Hour)
	})
}

// A nack delay survives a restart: the design says timers survive
// restarts. The message must not come back before its delay.
func TestGroupRestartKeepsNackDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		t0 := time.Now()
		next(t, m).Nack(10 * time.Minute)
		time.Sleep(time.Minute)
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		select {
		case d := <-m.C():
			t.Fatalf("nacked with a 10m delay, redelivered %v after the nack (at the restart), Deliveries %d",
				time.Since(t0), d.Deliveries)
		case <-time.After(9*time.Minute - time.Millisecond):
		}
		d := next(t, m)
		if time.Since(t0) != 10*time.Minute {
			t.Fatalf("redelivered after %v, want 10m", time.Since(t0))
		}
		d.Ack()
	})
}

// The same for a backoff step.
func TestGroupRestartKeepsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Second, Backoff: []time.Duration{time.Hour}})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		next(t, m) // fails at 1s; redelivery due at 1h1s
		t0 := time.Now()
		time.Sleep(time.Minute)
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		select {
		case d := <-m.C():
			t.Fatalf("backoff 1h: redelivered %v after the first delivery (at the restart), Deliveries %d",
				time.Since(t0), d.Deliveries)
		case <-time.After(59 * time.Minute):
		}
		d := next(t, m)
		if got := time.Since(t0); got != time.Hour+time.Second {
			t.Fatalf("redelivered after %v, want 1h1s", got)
		}
		d.Ack()
	})
}

// A TTL runs across a restart: a message whose TTL passes after the
// restart, with no member joined, is dead-lettered at its expiry.
func TestGroupRestartKeepsTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.stream(StreamConfig{Name: "dlq"})
		e.group(GroupConfig{Name: "g", Stream: "s", DeadLetter: "dlq"})
		t0 := time.Now()
		ack := e.pub("s", "a", withTTL(time.Minute))
		time.Sleep(10 * time.Second)
		e.restart()
		var ls []*Message
		grpWaitFor(t, time.Minute, "dead letter", func() bool {
			ls = grpStreamMsgs(t, e.b, "dlq")
			return len(ls) == 1
		})
		if got := time.Since(t0); got < time.Minute || got > time.Minute+100*time.Millisecond {
			t.Errorf("dead-lettered after %v, TTL 1m", got)
		}
		grpCheckDLQ(t, ls[0], ack, "s", "g", ReasonExpired, 0, "")
	})
}

// Members of a closed broker end with ErrClosed; their deliveries can no
// longer be settled as if nothing happened.
func TestGroupRestartEndsMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		next(t, m)
		e.restart()
		select {
		case <-m.Done():
		default:
			t.Fatal("member not ended by Close")
		}
		if m.Err() == nil {
			t.Fatal("Err nil after Close")
		}
		m2 := join(t, e.b, "s", "g", 0)
		d := next(t, m2)
		if d.Deliveries != 2 {
			t.Fatalf("Deliveries %d", d.Deliveries)
		}
		d.Ack()
	})
}

// A first delivery writes no record of its own but moves the handed
// mark: after a restart the messages delivered once count one delivery,
// and those never delivered none.
func TestGroupRestartHandedMark(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, m := grpOne(t, GroupConfig{AckWait: time.Hour}, 3)
		for i := range 5 {
			e.pub("s", num(i))
		}
		ds := grpTakeAll(m)
		if len(ds) != 3 {
			t.Fatalf("took %d, want 3", len(ds))
		}
		if err := ds[1].Ack(); err != nil {
			t.Fatal(err)
		}
		e.restart()
		m = join(t, e.b, "s", "g", 10)
		got := grpTakeAll(m)
		want := map[string]int{num(0): 2, num(2): 2, num(3): 1, num(4): 1}
		if len(got) != len(want) {
			t.Fatalf("after restart: %v", grpPayloads(got))
		}
		for _, d := range got {
			if d.Deliveries != want[string(d.Payload)] {
				t.Errorf("%s: Deliveries %d, want %d", d.Payload, d.Deliveries, want[string(d.Payload)])
			}
		}
	})
}
