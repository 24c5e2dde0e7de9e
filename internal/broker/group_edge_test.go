package broker

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A poison message that makes every member that takes it die (the member
// leaves, or its connection drops, before settling) must still be
// dead-lettered after MaxDeliveries: that is what the bound is for.
// Member.Leave (takeBackLocked) returns the message to the ready queue
// without checking MaxDeliveries, so it is delivered forever.
func TestGroupMaxDeliveriesCountsLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.stream(StreamConfig{Name: "dlq"})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxDeliveries: 3, DeadLetter: "dlq"})
		ack := e.pub("s", "poison")
		var max int
		for range 6 {
			m := join(t, e.b, "s", "g", 0)
			got := grpQueued(m)
			if len(got) == 0 {
				break
			}
			max = got[0].Deliveries
			m.Leave() // the consumer crashed on it
		}
		if max > 3 {
			t.Errorf("MaxDeliveries 3: delivered %d times (members leaving with it never dead-letter it)", max)
		}
		ls := grpStreamMsgs(t, e.b, "dlq")
		if len(ls) != 1 {
			t.Fatalf("%d dead letters, want 1", len(ls))
		}
		grpCheckDLQ(t, ls[0], ack, "s", "g", ReasonMaxDeliveries, 3, "")
	})
}

// The same across restarts: a message delivered MaxDeliveries times whose
// last delivery was cut short by a restart must not be delivered a
// MaxDeliveries+1-th time.
func TestGroupMaxDeliveriesAcrossRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.stream(StreamConfig{Name: "dlq"})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxDeliveries: 2, DeadLetter: "dlq"})
		e.pub("s", "a")
		m := join(t, e.b, "s", "g", 0)
		next(t, m).Nack(0)
		if d := next(t, m); d.Deliveries != 2 {
			t.Fatalf("Deliveries %d", d.Deliveries)
		}
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		if got := grpQueued(m); len(got) > 0 {
			t.Errorf("MaxDeliveries 2: delivered again after a restart with Deliveries %d", got[0].Deliveries)
		}
	})
}

// A member that reads a delivery which had already timed out (it sat in
// the member's channel past the ack wait) and does not settle it, leaving
// the redelivery to the ack wait: the message must come again. Since
// 55d1a48 a member with a full channel has no room, so the timed-out
// message waits in the ready queue; reading the channel frees the room
// but nothing dispatches again until some settle, join or new message,
// and no timer is armed for the message: it stalls until the timer
// loop's idle wake-up, an hour later. (Since the pump, offers the member
// does not take are withdrawn at each ack wait and do not count; the read
// gets the current offer, and the ack wait then redelivers it.)
func TestGroupTimedOutUnreadThenReadIsRedelivered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Second})
		m := join(t, e.b, "s", "g", 1)
		e.pub("s", "a")
		time.Sleep(2500 * time.Millisecond) // "a" times out unread, twice
		stale := next(t, m)
		t0 := time.Now()
		if stale.Deliveries != 1 {
			t.Fatalf("Deliveries %d", stale.Deliveries)
		}
		// The consumer crashes while processing it without settling.
		select {
		case d := <-m.C():
			if d.Deliveries != 2 {
				t.Fatalf("Deliveries %d", d.Deliveries)
			}
			t.Logf("redelivered %v after the stale read", time.Since(t0))
			d.Ack()
		case <-time.After(10 * time.Second):
			in := grpInfo(t, e.b, "s", "g")
			d := grpRecvWithin(t, m, 2*time.Hour) // wait on, for the report
			t.Fatalf("AckWait 1s: the timed-out message was not delivered again within 10s though the member "+
				"has room (InFlight %d); it came %v after the stale read (Deliveries %d)", in.InFlight, time.Since(t0), d.Deliveries)
		}
	})
}

// Growing a stream's partitions: existing groups must read the new
// partitions too. (newGroup sizes g.parts once, from the partition count
// at creation or load, so messages in new partitions reach the group only
// after a restart.)
func TestGroupStreamGrowsPartitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s", Partitions: 1})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		m := join(t, e.b, "s", "g", 0)
		if _, err := e.b.UpdateStream(StreamConfig{Name: "s", Partitions: 4}); err != nil {
			t.Fatal(err)
		}
		parts := map[int]bool{}
		for i := range 40 {
			a := e.pub("s", num(i), withKey(num(i)))
			parts[a.Partition] = true
		}
		if len(parts) < 2 {
			t.Fatalf("keys landed in partitions %v only", parts)
		}
		var got []*Delivery
		deadline := time.Now().Add(time.Second)
		for len(got) < 40 && time.Now().Before(deadline) {
			select {
			case d := <-m.C():
				got = append(got, d)
				d.Ack()
			case <-time.After(100 * time.Millisecond):
			}
		}
		if len(got) != 40 {
			t.Errorf("group got %d of 40 messages after the stream grew from 1 to 4 partitions", len(got))
		}
		if in := grpInfo(t, e.b, "s", "g"); in.Lag != 0 {
			t.Errorf("lag %d", in.Lag)
		}
	})
}

// Redrive of letters whose original subject no stream captures any more
// must not drop them: it publishes them to nobody (core delivery), counts
// them as moved, and then advances the dead-letter stream past them.
func TestGroupDLQRedriveUncapturedKeepsLetters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "orders", Subjects: []string{"orders.>"}})
		e.stream(StreamConfig{Name: "dlq", Subjects: []string{"dlq.>"}})
		e.group(GroupConfig{Name: "g", Stream: "orders", DeadLetter: "dlq.orders"})
		m := join(t, e.b, "orders", "g", 0)
		e.pub("orders.a", "x")
		next(t, m).Term("")
		grpWaitFor(t, time.Second, "letter", func() bool { return len(grpStreamMsgs(t, e.b, "dlq")) == 1 })
		if err := e.b.DeleteGroup("orders", "g"); err != nil {
			t.Fatal(err)
		}
		if err := e.b.DeleteStream("orders"); err != nil {
			t.Fatal(err)
		}
		res, err := e.b.Redrive(context.Background(), "dlq", 0, 0, -1)
		if n := len(grpStreamMsgs(t, e.b, "dlq")); n != 1 {
			t.Errorf("redrive to an uncaptured subject: result %+v, err %v, and the letter is gone "+
				"(%d letters left): the message is lost", res, err, n)
		}
	})
}

// Redrive errors: unknown stream, unknown partition.
func TestGroupDLQRedriveErrors(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "dlq"})
	if _, err := e.b.Redrive(context.Background(), "nope", 0, 0, -1); !errors.Is(err, ErrStreamNotFound) {
		t.Errorf("unknown stream: %v", err)
	}
	if _, err := e.b.Redrive(context.Background(), "dlq", 3, 0, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown partition: %v", err)
	}
	if res, err := e.b.Redrive(context.Background(), "dlq", 0, 0, -1); err != nil || res.Moved != 0 {
		t.Errorf("empty: %+v %v", res, err)
	}
}

// A stream update while a group reads it: the group goes on delivering
// every message, and the update does not race with the group's reader.
// (The reader reads g.st.cfg, e.g. Name and DefaultTTL in admitChunk and
// admitLocked, without stream.mu, while UpdateStream/reopen writes s.cfg
// under it: the race detector reports it.)
func TestGroupStreamUpdateWhileReading(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s"})
	e.group(GroupConfig{Name: "g", Stream: "s"})
	m := join(t, e.b, "s", "g", 0)
	const n = 400
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for i := range n {
			if _, err := e.b.Publish(context.Background(), &Message{Subject: "s", Payload: []byte(num(i))}, Expect{}); err != nil {
				t.Errorf("publish %d: %v", i, err)
				return
			}
		}
	}()
	seen := map[string]bool{}
	deadline := time.After(20 * time.Second)
	for i := 0; len(seen) < n; i++ {
		if i < 30 {
			if _, err := e.b.UpdateStream(StreamConfig{Name: "s", DefaultTTL: time.Duration(i+1) * time.Hour}); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case d := <-m.C():
			seen[string(d.Payload)] = true
			d.Ack()
		case <-deadline:
			t.Fatalf("got %d of %d", len(seen), n)
		}
	}
	<-pubDone
}

// A member leaving gracefully (scaling down) with messages it never
// received — still queued for it in the broker, behind its pump — must
// not push those towards the dead-letter subject: the consumer never saw
// them. Since 50cd5ef takeBackLocked dead-letters every taken-back entry
// at MaxDeliveries, including those the pump had not handed over yet.
func TestGroupLeaveDoesNotDeadLetterUnseen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.stream(StreamConfig{Name: "dlq"})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxDeliveries: 1, DeadLetter: "dlq", MaxInFlight: 10})
		a := join(t, e.b, "s", "g", 0)
		for i := range 10 {
			e.pub("s", num(i))
		}
		seen := next(t, a) // a receives one, the other 9 wait for it in the broker
		synctest.Wait()
		a.Leave()
		b := join(t, e.b, "s", "g", 0)
		got := grpQueued(b)
		time.Sleep(time.Second) // let dead letters land, if any
		ls := grpStreamMsgs(t, e.b, "dlq")
		if len(got) != 9 {
			t.Errorf("after a left having received only %q: b got %d messages, %d dead-lettered; "+
				"want the 9 that a never received to go to b", seen.Payload, len(got), len(ls))
		}
		for _, d := range got {
			if d.Deliveries != 1 {
				t.Errorf("%q: Deliveries %d, but no consumer had received it", d.Payload, d.Deliveries)
			}
		}
	})
}

// A member that stops reading (its consumer is stuck but still joined)
// must not make the broker's memory grow without bound: each ack wait
// redelivers its messages to it, and every stale delivery stays in
// m.queue behind the one the pump is blocked on.
func TestGroupStuckReaderQueueBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Second, MaxInFlight: 4})
		m := join(t, e.b, "s", "g", 0)
		for i := range 4 {
			e.pub("s", num(i))
		}
		time.Sleep(1000 * time.Second)
		synctest.Wait()
		g, _ := e.b.group("s", "g")
		g.mu.Lock()
		n := len(m.queue)
		g.mu.Unlock()
		if n > 2*4 {
			t.Errorf("a member with MaxInFlight 4 that stopped reading has %d deliveries queued after "+
				"1000 ack waits: stale ones are never removed", n)
		}
	})
}

// Redriving twice must not publish the same letters twice. When a letter
// that stays (not a dead letter, or its subject is no longer captured)
// comes before letters that were moved, the start cannot pass the moved
// ones, and the next Redrive moves them again.
func TestGroupDLQRedriveTwiceNoDuplicates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{}, StreamConfig{})
		e.pub("dlq.note", "not-a-letter") // first in the stream
		m := join(t, e.b, "orders", "g", 0)
		e.pub("orders.a", "x")
		next(t, m).Term("")
		grpLetters(t, e, 2, time.Second)
		for i := range 2 {
			res, err := e.b.Redrive(context.Background(), "dlq", 0, 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			if want := 1 - i; res.Moved != want {
				t.Errorf("redrive %d: moved %d, want %d (the letter was redriven already)", i+1, res.Moved, want)
			}
		}
		d := next(t, m)
		d.Ack()
		none(t, m, time.Minute)
	})
}
