package broker

import (
	"testing"
	"testing/synctest"
	"time"
)

// A message far behind a group's read-ahead window is still dead-lettered
// soon after its TTL passes, and the reader skips it when it gets there.
func TestGroupSweepExpiresBeyondReadAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.stream(StreamConfig{Name: "dlq", Subjects: []string{"dlq.>"}})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxPending: 2, DeadLetter: "dlq.g"})
		for i := range 10 {
			e.pub("s", num(i)) // no TTL, nobody consumes
		}
		e.pub("s", "short-lived", withTTL(time.Minute))
		letters, _ := e.b.Subscribe("dlq.>", Start{Kind: StartEarliest}, 0)
		defer letters.Close()
		t0 := time.Now()
		var l *Message
		select {
		case l = <-letters.Messages():
		case <-time.After(10 * time.Minute):
			t.Fatal("not dead-lettered within 10 minutes")
		}
		if string(l.Payload) != "short-lived" {
			t.Fatalf("letter %q", l.Payload)
		}
		if took := time.Since(t0); took < time.Minute || took > time.Minute+3*sweepEvery {
			t.Fatalf("dead-lettered after %v, TTL 1m", took)
		}
		if r, _ := l.Header(HdrDLQReason); r != ReasonExpired {
			t.Fatalf("reason %q", r)
		}
		m := join(t, e.b, "s", "g", 0)
		var got []string
		for range 10 {
			d := next(t, m)
			got = append(got, string(d.Payload))
			d.Ack()
		}
		none(t, m, time.Minute) // the swept message is not delivered
		if !grpEqual(got, grpNums(0, 10)) {
			t.Fatalf("got %v", got)
		}
		if in := grpInfo(t, e.b, "s", "g"); in.Lag != 0 || in.DeadLettered != 1 {
			t.Fatalf("info %+v", in)
		}
	})
}
