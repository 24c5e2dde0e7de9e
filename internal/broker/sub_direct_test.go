package broker

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// directLog is a direct function that records what it took and declines
// payloads starting with "no".
type directLog struct {
	mu    sync.Mutex
	taken []string
}

func (d *directLog) take(m *Message) bool {
	if strings.HasPrefix(string(m.Payload), "no") {
		return false
	}
	d.mu.Lock()
	d.taken = append(d.taken, string(m.Payload))
	d.mu.Unlock()
	return true
}

func (d *directLog) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.taken, ",")
}

// Live messages go to the direct function only while the consumer is
// idle and nothing is buffered; a declined one, and those after it, are
// buffered in order until the consumer is idle again.
func TestSubscriptionDirectKeepsOrder(t *testing.T) {
	e := newEnv(t)
	sub, err := e.b.Subscribe("live.>", Start{Kind: StartLatest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var d directLog
	sub.Direct(d.take)
	e.pub("live.a", "before-idle") // the consumer has not said it is idle
	if sub.Idle() {
		t.Fatal("Idle with a message buffered")
	}
	if m := recv(t, sub); string(m.Payload) != "before-idle" {
		t.Fatalf("buffered %q", m.Payload)
	}
	if !sub.Idle() {
		t.Fatal("not idle with nothing buffered")
	}
	e.pub("live.a", "1")
	e.pub("live.a", "no-2")
	e.pub("live.a", "3") // after a declined one: buffered
	if s := d.String(); s != "1" {
		t.Fatalf("taken directly: %s", s)
	}
	for _, want := range []string{"no-2", "3"} {
		if m := recv(t, sub); string(m.Payload) != want {
			t.Fatalf("buffered %q, want %q", m.Payload, want)
		}
	}
	e.pub("live.a", "4") // the consumer took 3 but has not said it is idle
	if m := recv(t, sub); string(m.Payload) != "4" {
		t.Fatalf("buffered %q", m.Payload)
	}
	if !sub.Idle() {
		t.Fatal("not idle with nothing buffered")
	}
	e.pub("live.a", "5")
	if s := d.String(); s != "1,5" {
		t.Fatalf("taken directly: %s", s)
	}
	sub.Direct(nil)
	e.pub("live.a", "6")
	if m := recv(t, sub); string(m.Payload) != "6" || d.String() != "1,5" {
		t.Fatalf("after Direct(nil): buffered %q, taken %s", m.Payload, d.String())
	}
}

// A closed subscription offers nothing more to its direct function, and
// a full buffer still cuts a consumer that declines everything.
func TestSubscriptionDirectCloseAndSlowConsumer(t *testing.T) {
	e := newEnv(t)
	sub, err := e.b.Subscribe("live.>", Start{Kind: StartLatest}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var d directLog
	sub.Direct(d.take)
	sub.Idle()
	for _, p := range []string{"no-1", "no-2", "no-3"} {
		e.pub("live.a", p)
	}
	<-sub.Done()
	if err := sub.Err(); err == nil || !strings.Contains(err.Error(), "not reading") {
		t.Fatalf("cut with %v", err)
	}
	e.pub("live.a", "after")
	if s := d.String(); s != "" {
		t.Fatalf("taken after the cut: %s", s)
	}
}

// A live message buffered behind a stored one (which does not go
// through the direct function) still makes the consumer not idle: the
// next live message waits behind it, and is not sent while the consumer
// still handles it.
func TestSubscriptionDirectBehindStored(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "kept", Subjects: []string{"x.kept"}})
	sub, err := e.b.Subscribe("x.>", Start{Kind: StartLatest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var d directLog
	sub.Direct(d.take)
	if !sub.Idle() {
		t.Fatal("not idle with nothing buffered")
	}
	e.pub("x.kept", "stored")
	grpWaitFor(t, 5*time.Second, "the stored message buffered", func() bool { return len(sub.c) == 1 })
	e.pub("x.live", "a1") // behind the stored one: buffered
	for _, want := range []string{"stored", "a1"} {
		if m := recv(t, sub); string(m.Payload) != want {
			t.Fatalf("buffered %q, want %q", m.Payload, want)
		}
	}
	e.pub("x.live", "a2") // the consumer may still be handling a1
	if s := d.String(); s != "" {
		t.Fatalf("taken directly while the consumer held a1: %s", s)
	}
	if m := recv(t, sub); string(m.Payload) != "a2" {
		t.Fatalf("buffered %q, want a2", m.Payload)
	}
}
