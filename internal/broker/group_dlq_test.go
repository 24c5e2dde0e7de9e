package broker

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// dlqEnv: stream "orders" (orders.>), a dead-letter stream "dlq" (dlq.>),
// and group "g" on orders dead-lettering to dlq.orders.
func dlqEnv(t *testing.T, gc GroupConfig, sc StreamConfig) *env {
	t.Helper()
	e := newEnv(t)
	sc.Name, sc.Subjects = "orders", []string{"orders.>"}
	e.stream(sc)
	e.stream(StreamConfig{Name: "dlq", Subjects: []string{"dlq.>"}})
	gc.Name, gc.Stream, gc.DeadLetter = "g", "orders", "dlq.orders"
	e.group(gc)
	return e
}

// grpLetters waits until the dlq stream holds n letters and returns them.
func grpLetters(t *testing.T, e *env, n int, within time.Duration) []*Message {
	t.Helper()
	var ls []*Message
	grpWaitFor(t, within, "dead letters", func() bool {
		ls = grpStreamMsgs(t, e.b, "dlq")
		return len(ls) >= n
	})
	if len(ls) != n {
		t.Fatalf("%d dead letters, want %d", len(ls), n)
	}
	return ls
}

// grpCheckLetterBody checks that a letter keeps the original key, payload
// and application headers, and goes to the dead-letter subject.
func grpCheckLetterBody(t *testing.T, l *Message, key, payload string, hdrs ...string) {
	t.Helper()
	if l.Subject != "dlq.orders" || string(l.Key) != key || string(l.Payload) != payload {
		t.Errorf("letter: subject %q key %q payload %q; want dlq.orders %q %q", l.Subject, l.Key, l.Payload, key, payload)
	}
	for i := 0; i+1 < len(hdrs); i += 2 {
		if v, ok := l.Header(hdrs[i]); !ok || v != hdrs[i+1] {
			t.Errorf("letter %q: header %s = %q (%v), want %q", l.Payload, hdrs[i], v, ok, hdrs[i+1])
		}
	}
	if l.Headers[0].Key != "app" {
		t.Errorf("letter %q: application headers must come first, in order: %v", l.Payload, grpHeaders(l))
	}
}

func TestGroupDLQMaxDeliveriesByNack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{MaxDeliveries: 3, AckWait: time.Minute}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		ack := e.pub("orders.eu.created", "o1", withKey("k1"), withHeader("app", "1"), withHeader("trace", "t"))
		var nacked time.Time
		for i := 1; i <= 3; i++ {
			d := next(t, m)
			nacked = time.Now()
			if d.Deliveries != i {
				t.Fatalf("Deliveries = %d, want %d", d.Deliveries, i)
			}
			if err := d.Nack(0); err != nil {
				t.Fatal(err)
			}
		}
		ls := grpLetters(t, e, 1, time.Second)
		grpCheckDLQ(t, ls[0], ack, "orders.eu.created", "g", ReasonMaxDeliveries, 3, "")
		grpCheckLetterBody(t, ls[0], "k1", "o1", "app", "1", "trace", "t")
		if ts, _ := ls[0].Header(HdrDLQTime); ts != nacked.UTC().Format(time.RFC3339Nano) {
			t.Errorf("%s = %s, want the time of the last nack %s", HdrDLQTime, ts, nacked.UTC().Format(time.RFC3339Nano))
		}
		none(t, m, 5*time.Minute)
		if in := grpInfo(t, e.b, "orders", "g"); in.DeadLettered != 1 || in.Lag != 0 || in.InFlight != 0 {
			t.Fatalf("info: %+v", in)
		}
	})
}

// Ack waits count as failed deliveries too: after the last one the
// message is dead-lettered, right at its ack wait.
func TestGroupDLQMaxDeliveriesByAckWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{MaxDeliveries: 2, AckWait: 5 * time.Second,
			Backoff: []time.Duration{time.Second}}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		ack := e.pub("orders.x", "o1", withHeader("app", "v"))
		t0 := time.Now()
		next(t, m)
		d := grpRecvWithin(t, m, 10*time.Second) // at 6s
		if d.Deliveries != 2 || time.Since(t0) != 6*time.Second {
			t.Fatalf("second delivery at %v with Deliveries %d", time.Since(t0), d.Deliveries)
		}
		if n := len(grpStreamMsgs(t, e.b, "dlq")); n != 0 {
			t.Fatalf("%d letters before the last ack wait", n)
		}
		ls := grpLetters(t, e, 1, 6*time.Second)
		if got := time.Since(t0); got < 11*time.Second || got > 11*time.Second+100*time.Millisecond {
			t.Errorf("dead-lettered at %v, want 11s", got)
		}
		grpCheckDLQ(t, ls[0], ack, "orders.x", "g", ReasonMaxDeliveries, 2, "")
		grpCheckLetterBody(t, ls[0], "", "o1", "app", "v")
		if ls[0].Key != nil {
			t.Errorf("letter of a keyless message has key %q", ls[0].Key)
		}
		if err := d.Ack(); !grpIsSettled(err) {
			t.Fatalf("ack after dead-lettering: %v", err)
		}
		none(t, m, time.Minute)
	})
}

func TestGroupDLQTermAndReject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		a1 := e.pub("orders.a", "t1", withKey("k"), withHeader("app", "1"))
		a2 := e.pub("orders.b", "t2", withHeader("app", "2"))
		a3 := e.pub("orders.c", "r1", withHeader("app", "3"))
		a4 := e.pub("orders.d", "r2", withHeader("app", "4"))
		ds := grpRecvN(t, m, 4)
		if err := ds[0].Term("boom: bad order"); err != nil {
			t.Fatal(err)
		}
		if err := ds[1].Term(""); err != nil {
			t.Fatal(err)
		}
		if err := ds[2].Reject("schema"); err != nil {
			t.Fatal(err)
		}
		if err := ds[3].Reject(""); err != nil {
			t.Fatal(err)
		}
		ls := grpLetters(t, e, 4, time.Second)
		byPayload := map[string]*Message{}
		for _, l := range ls {
			byPayload[string(l.Payload)] = l
		}
		grpCheckDLQ(t, byPayload["t1"], a1, "orders.a", "g", ReasonTerminated, 1, "boom: bad order")
		grpCheckLetterBody(t, byPayload["t1"], "k", "t1", "app", "1")
		grpCheckDLQ(t, byPayload["t2"], a2, "orders.b", "g", ReasonTerminated, 1, "")
		grpCheckDLQ(t, byPayload["r1"], a3, "orders.c", "g", ReasonRejected, 1, "schema")
		grpCheckDLQ(t, byPayload["r2"], a4, "orders.d", "g", ReasonRejected, 1, "")
		for _, d := range ds {
			if err := d.Ack(); !grpIsSettled(err) {
				t.Errorf("ack after term/reject: %v", err)
			}
		}
		none(t, m, time.Hour)
		if in := grpInfo(t, e.b, "orders", "g"); in.DeadLettered != 4 || in.Lag != 0 {
			t.Fatalf("info: %+v", in)
		}
	})
}

// A message whose TTL passes while no member is joined is dead-lettered
// (reason expired, 0 deliveries) within a bounded delay of its expiry,
// never delivered later.
func TestGroupDLQExpiredWithoutMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{}, StreamConfig{})
		t0 := time.Now()
		ack := e.pub("orders.ttl", "x", withTTL(10*time.Second), withHeader("app", "1"))
		keep := e.pub("orders.keep", "y")
		time.Sleep(10*time.Second - time.Millisecond)
		if n := len(grpStreamMsgs(t, e.b, "dlq")); n != 0 {
			t.Fatalf("%d letters before the TTL passed", n)
		}
		ls := grpLetters(t, e, 1, time.Second)
		if got := time.Since(t0); got > 10*time.Second+100*time.Millisecond {
			t.Errorf("dead-lettered %v after publish, TTL 10s", got)
		}
		grpCheckDLQ(t, ls[0], ack, "orders.ttl", "g", ReasonExpired, 0, "")
		grpCheckLetterBody(t, ls[0], "", "x", "app", "1")
		if _, ok := ls[0].Header(HdrTTL); ok {
			t.Errorf("the letter carries the original TTL")
		}
		m := join(t, e.b, "orders", "g", 0)
		d := next(t, m)
		if d.Offset != keep.Offset {
			t.Fatalf("delivered offset %d (%q), want only the unexpired %d", d.Offset, d.Payload, keep.Offset)
		}
		d.Ack()
		none(t, m, time.Minute)
	})
}

// The stream's DefaultTTL applies to messages without a TTL of their own;
// a message's own TTL wins.
func TestGroupDLQExpiredStreamDefaultTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{}, StreamConfig{DefaultTTL: 5 * time.Second})
		t0 := time.Now()
		a := e.pub("orders.a", "def")
		b := e.pub("orders.b", "own", withTTL(time.Minute))
		ls := grpLetters(t, e, 1, 6*time.Second)
		if got := time.Since(t0); got < 5*time.Second || got > 5*time.Second+100*time.Millisecond {
			t.Errorf("default TTL: dead-lettered at %v, want 5s", got)
		}
		grpCheckDLQ(t, ls[0], a, "orders.a", "g", ReasonExpired, 0, "")
		ls = grpLetters(t, e, 2, time.Minute)
		if got := time.Since(t0); got < time.Minute || got > time.Minute+100*time.Millisecond {
			t.Errorf("own TTL: dead-lettered at %v, want 1m", got)
		}
		grpCheckDLQ(t, ls[1], b, "orders.b", "g", ReasonExpired, 0, "")
	})
}

// A message that expired before the group read it (created later, from
// the earliest) is dead-lettered, not delivered.
func TestGroupDLQExpiredBeforeRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "orders", Subjects: []string{"orders.>"}})
		e.stream(StreamConfig{Name: "dlq", Subjects: []string{"dlq.>"}})
		ack := e.pub("orders.a", "old", withTTL(time.Second))
		e.pub("orders.b", "fresh")
		time.Sleep(2 * time.Second)
		e.group(GroupConfig{Name: "g", Stream: "orders", DeadLetter: "dlq.orders"})
		m := join(t, e.b, "orders", "g", 0)
		d := next(t, m)
		if string(d.Payload) != "fresh" {
			t.Fatalf("delivered %q", d.Payload)
		}
		d.Ack()
		ls := grpLetters(t, e, 1, time.Second)
		grpCheckDLQ(t, ls[0], ack, "orders.a", "g", ReasonExpired, 0, "")
	})
}

// A message that was delivered, failed, and whose TTL passed before the
// redelivery is dead-lettered as expired with its delivery count.
func TestGroupDLQExpiredOnRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{AckWait: 10 * time.Second}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		ack := e.pub("orders.a", "x", withTTL(5*time.Second))
		next(t, m) // not acked; the ack wait (10s) outlives the TTL (5s)
		ls := grpLetters(t, e, 1, 11*time.Second)
		grpCheckDLQ(t, ls[0], ack, "orders.a", "g", ReasonExpired, 1, "")
		none(t, m, time.Minute)
	})
}

// A message waiting for its redelivery (nack delay or backoff) whose TTL
// passes meanwhile is dead-lettered when the TTL passes, not when the
// delay ends: the design dead-letters a message "when its TTL passes".
func TestGroupDLQExpiresWhileWaitingForRedelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{AckWait: time.Minute}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		t0 := time.Now()
		ack := e.pub("orders.a", "x", withTTL(10*time.Second))
		d := next(t, m)
		if err := d.Nack(time.Hour); err != nil {
			t.Fatal(err)
		}
		var ls []*Message
		deadline := t0.Add(11 * time.Second)
		for time.Now().Before(deadline) && len(ls) == 0 {
			time.Sleep(100 * time.Millisecond)
			ls = grpStreamMsgs(t, e.b, "dlq")
		}
		if len(ls) == 0 {
			// See when it goes, for the report.
			grpWaitFor(t, 2*time.Hour, "dead letter", func() bool { return len(grpStreamMsgs(t, e.b, "dlq")) > 0 })
			t.Fatalf("TTL 10s, nacked with a 1h delay: dead-lettered only %v after publish "+
				"(retryLocked/dueLocked check the TTL only when the wait ends)", time.Since(t0).Round(time.Second))
		}
		grpCheckDLQ(t, ls[0], ack, "orders.a", "g", ReasonExpired, 1, "")
	})
}

// Without a dead-letter subject, dead-lettered messages are dropped and
// counted.
func TestGroupDLQNoSubjectDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxDeliveries: 1, AckWait: time.Second})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		e.pub("s", "b")
		e.pub("s", "c", withTTL(time.Minute))
		ds := grpRecvN(t, m, 3)
		ds[0].Term("x")
		ds[1].Nack(0)
		// c times out after 1s: max deliveries 1.
		none(t, m, 2*time.Minute)
		if in := grpInfo(t, e.b, "s", "g"); in.DeadLettered != 3 || in.Lag != 0 || in.InFlight != 0 {
			t.Fatalf("info: %+v", in)
		}
	})
}

// Redrive moves dead letters back to their original subjects, without the
// dead-letter headers; the group sees them again as new messages, and the
// letters leave the dead-letter stream. Messages that are not dead letters
// are skipped and stay.
func TestGroupDLQRedrive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		e.pub("orders.a", "p1", withKey("k1"), withHeader("app", "1"))
		e.pub("orders.b", "p2", withHeader("app", "2"))
		e.pub("orders.c", "p3", withKey("k3"), withHeader("app", "3"), withHeader("app", "3b"))
		ds := grpRecvN(t, m, 3)
		// One at a time: dead-lettering is asynchronous, so letters of
		// settles in a row may land in any order.
		ds[0].Term("e1")
		grpLetters(t, e, 1, time.Second)
		ds[1].Reject("e2")
		grpLetters(t, e, 2, time.Second)
		ds[2].Term("")
		grpLetters(t, e, 3, time.Second)
		e.pub("dlq.other", "not-a-letter")

		res, err := e.b.Redrive(context.Background(), "dlq", 0, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Moved != 3 || res.Skipped != 1 {
			t.Fatalf("redrive: %+v, want 3 moved, 1 skipped", res)
		}
		info, err := e.b.StreamInfo("dlq")
		if err != nil {
			t.Fatal(err)
		}
		if p := info.Partitions[0]; p.StartOffset != 3 {
			t.Errorf("dlq start offset %d after redrive, want 3", p.StartOffset)
		}
		if left := grpStreamMsgs(t, e.b, "dlq"); len(left) != 1 || string(left[0].Payload) != "not-a-letter" {
			t.Errorf("left after redrive: %d messages, want the one that is not a letter", len(left))
		}
		got := grpRecvN(t, m, 3)
		want := []struct {
			subj, key, payload string
			hdrs               []string
		}{
			{"orders.a", "k1", "p1", []string{"app=1"}},
			{"orders.b", "", "p2", []string{"app=2"}},
			{"orders.c", "k3", "p3", []string{"app=3", "app=3b"}},
		}
		for i, d := range got {
			w := want[i]
			if d.Subject != w.subj || string(d.Key) != w.key || string(d.Payload) != w.payload ||
				strings.Join(grpHeaders(&d.Message), ",") != strings.Join(w.hdrs, ",") || d.Deliveries != 1 || d.Offset != int64(3+i) {
				t.Errorf("redriven %d: subject %q key %q payload %q headers %v deliveries %d offset %d; want %+v",
					i, d.Subject, d.Key, d.Payload, grpHeaders(&d.Message), d.Deliveries, d.Offset, w)
			}
			if (w.key == "") != (d.Key == nil) {
				t.Errorf("redriven %d: key %v", i, d.Key)
			}
			d.Ack()
		}
		none(t, m, time.Minute)
		if in := grpInfo(t, e.b, "orders", "g"); in.Lag != 0 || in.DeadLettered != 3 || in.Acked != 3 {
			t.Fatalf("info: %+v", in)
		}
	})
}

// A redrive of a middle range moves only that range and leaves the
// stream's start where it is.
func TestGroupDLQRedriveRange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		for i := range 4 {
			e.pub("orders.x", num(i))
		}
		for i, d := range grpRecvN(t, m, 4) {
			d.Term("")
			grpLetters(t, e, i+1, time.Second)
		}
		res, err := e.b.Redrive(context.Background(), "dlq", 0, 1, 3)
		if err != nil || res.Moved != 2 {
			t.Fatalf("redrive: %+v %v", res, err)
		}
		got := grpPayloads(grpRecvN(t, m, 2))
		if !grpEqual(got, grpNums(1, 3)) {
			t.Fatalf("redriven %v", got)
		}
		if n := len(grpStreamMsgs(t, e.b, "dlq")); n != 4 {
			t.Fatalf("%d letters left, want 4 (start not moved)", n)
		}
	})
}

// The same for a delayed message whose TTL passes before its deliver-at
// time: it can never be delivered, and is dead-lettered when the TTL
// passes.
func TestGroupDLQExpiresWhileDelayed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := dlqEnv(t, GroupConfig{}, StreamConfig{})
		m := join(t, e.b, "orders", "g", 0)
		t0 := time.Now()
		ack := e.pub("orders.a", "x", withTTL(10*time.Second), withDeliverAt(t0.Add(time.Hour)))
		var ls []*Message
		for time.Now().Before(t0.Add(11*time.Second)) && len(ls) == 0 {
			time.Sleep(100 * time.Millisecond)
			ls = grpStreamMsgs(t, e.b, "dlq")
		}
		if len(ls) == 0 {
			grpWaitFor(t, 2*time.Hour, "dead letter", func() bool { return len(grpStreamMsgs(t, e.b, "dlq")) > 0 })
			t.Fatalf("TTL 10s, deliver-at 1h: dead-lettered only %v after publish "+
				"(admitLocked arms only the deliver-at timer of a delayed entry)", time.Since(t0).Round(time.Second))
		}
		grpCheckDLQ(t, ls[0], ack, "orders.a", "g", ReasonExpired, 0, "")
		none(t, m, 2*time.Hour)
	})
}
