package broker

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// Helpers for the group tests. Their names start with grp so that they
// do not collide with helpers of other test files in the package.

// grpStreamMsgs returns every message stored in a stream, partition by
// partition, in offset order.
func grpStreamMsgs(t testing.TB, b *Broker, name string) []*Message {
	t.Helper()
	st, err := b.stream(name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	var out []*Message
	for i := range st.cfg.Partitions {
		l := st.partLog(i)
		err := scanLog(l, l.StartOffset(), func(r *log.Record) {
			out = append(out, fromRecord(r, name, i))
		})
		if err != nil {
			t.Fatalf("scan %s/%d: %v", name, i, err)
		}
	}
	return out
}

// grpWaitFor polls cond every 10ms (or d/1000) (fake time inside a bubble) until it
// holds or d passes.
func grpWaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	step := max(10*time.Millisecond, d/1000)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(step)
	}
}

// grpRecvWithin waits up to d for a delivery.
func grpRecvWithin(t testing.TB, m *Member, d time.Duration) *Delivery {
	t.Helper()
	select {
	case x := <-m.C():
		return x
	case <-time.After(d):
		t.Fatalf("no delivery within %v", d)
	}
	return nil
}

// grpRecvN receives n deliveries.
func grpRecvN(t testing.TB, m *Member, n int) []*Delivery {
	t.Helper()
	out := make([]*Delivery, 0, n)
	for range n {
		out = append(out, next(t, m))
	}
	return out
}

// grpQueued returns, inside a bubble, every delivery currently queued
// for m, once the bubble is idle. The member's pump hands deliveries over
// one at a time, so it waits for the bubble again after each.
func grpQueued(m *Member) []*Delivery {
	var out []*Delivery
	c := m.C() // starts the pump before the first Wait
	for {
		synctest.Wait()
		select {
		case d := <-c:
			out = append(out, d)
		default:
			return out
		}
	}
}

func grpPayloads(ds []*Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d.Payload)
	}
	return out
}

func grpAckAll(t testing.TB, ds []*Delivery) {
	t.Helper()
	for _, d := range ds {
		if err := d.Ack(); err != nil {
			t.Fatalf("ack %q: %v", d.Payload, err)
		}
	}
}

func grpEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func grpNums(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, num(i))
	}
	return out
}

func grpInfo(t testing.TB, b *Broker, s, g string) GroupInfo {
	t.Helper()
	in, err := b.GroupInfo(s, g)
	if err != nil {
		t.Fatalf("group info %s/%s: %v", s, g, err)
	}
	return in
}

func grpIsSettled(err error) bool { return errors.Is(err, ErrAlreadySettled) }

// grpHeader returns a header's value or fails.
func grpHeader(t testing.TB, m *Message, k string) string {
	t.Helper()
	v, ok := m.Header(k)
	if !ok {
		t.Fatalf("message %q: no header %s (headers %v)", m.Payload, k, grpHeaders(m))
	}
	return v
}

func grpHeaders(m *Message) []string {
	var out []string
	for _, h := range m.Headers {
		out = append(out, fmt.Sprintf("%s=%s", h.Key, h.Value))
	}
	return out
}

// grpCheckDLQ checks the dead-letter headers of letter against the
// original message orig.
func grpCheckDLQ(t testing.TB, letter *Message, orig PubAck, subj, group, reason string, deliveries int, errText string) {
	t.Helper()
	want := map[string]string{
		HdrDLQStream:    orig.Stream,
		HdrDLQPartition: strconv.Itoa(orig.Partition),
		HdrDLQOffset:    strconv.FormatInt(orig.Offset, 10),
		HdrDLQSubject:   subj,
		HdrDLQGroup:     group,
		HdrDLQReason:    reason,
		HdrDLQCount:     strconv.Itoa(deliveries),
	}
	for k, v := range want {
		if got := grpHeader(t, letter, k); got != v {
			t.Errorf("dead letter %q: header %s = %q, want %q", letter.Payload, k, got, v)
		}
	}
	ts := grpHeader(t, letter, HdrDLQTime)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Errorf("dead letter %q: header %s = %q: %v", letter.Payload, HdrDLQTime, ts, err)
	}
	got, ok := letter.Header(HdrDLQError)
	switch {
	case errText == "" && ok:
		t.Errorf("dead letter %q: unexpected %s = %q", letter.Payload, HdrDLQError, got)
	case errText != "" && got != errText:
		t.Errorf("dead letter %q: %s = %q (present %v), want %q", letter.Payload, HdrDLQError, got, ok, errText)
	}
}
