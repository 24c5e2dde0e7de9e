package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestSubscribeReplayThenLive(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "orders", Subjects: []string{"orders.>"}, Partitions: 2})
	for i := range 6 {
		e.pub("orders.eu."+num(i), num(i), withKey(num(i)), withHeader("h", "v"))
	}
	all, err := e.b.Subscribe("orders.>", Start{Kind: StartEarliest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	live, _ := e.b.Subscribe("orders.eu.*", Start{Kind: StartLatest}, 0)
	defer live.Close()
	got := map[string]bool{}
	for range 6 {
		m := recv(t, all)
		if v, _ := m.Header("h"); v != "v" || m.Stream != "orders" || string(m.Key) != string(m.Payload) {
			t.Fatalf("replayed message %+v", m)
		}
		got[string(m.Payload)] = true
	}
	if len(got) != 6 {
		t.Fatalf("replayed %v", got)
	}
	e.pub("orders.eu.new", "new")
	for _, s := range []*Subscription{all, live} {
		if m := recv(t, s); string(m.Payload) != "new" || m.Subject != "orders.eu.new" {
			t.Fatalf("live message %+v", m)
		}
	}
}

func TestSubscribeStartPositions(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s"})
	base := time.Now().Add(-time.Hour)
	for i := range 10 {
		e.pub("s", num(i), func(m *Message) { m.Time = base.Add(time.Duration(i) * time.Minute) })
	}
	for _, c := range []struct {
		start Start
		first string
	}{
		{Start{Kind: StartOffset, Offset: 7}, num(7)},
		{Start{Kind: StartLastN, N: 2}, num(8)},
		{Start{Kind: StartTime, Time: base.Add(4*time.Minute + time.Second)}, num(5)},
	} {
		s, err := e.b.Subscribe("s", c.start, 0)
		if err != nil {
			t.Fatal(err)
		}
		if m := recv(t, s); string(m.Payload) != c.first {
			t.Errorf("%+v: first %q, want %q", c.start, m.Payload, c.first)
		}
		s.Close()
	}
	if _, err := e.b.Subscribe("s", Start{Kind: "sideways"}, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid start kind: %v", err)
	}
}

func TestSubscribeCoreAndSlowConsumer(t *testing.T) {
	e := newEnv(t)
	fast, _ := e.b.Subscribe("chat.*", Start{}, 0)
	defer fast.Close()
	slow, _ := e.b.Subscribe("chat.>", Start{}, 2)
	for i := range 5 {
		if a := e.pub("chat.room", num(i)); a.Stream != "" || a.Offset != -1 {
			t.Fatalf("uncaptured subject stored: %+v", a)
		}
	}
	for i := range 5 {
		if m := recv(t, fast); string(m.Payload) != num(i) {
			t.Fatalf("core order: %q", m.Payload)
		}
	}
	<-slow.Done()
	if !errors.Is(slow.Err(), ErrSlowConsumer) {
		t.Fatalf("slow consumer: %v", slow.Err())
	}
	late, _ := e.b.Subscribe("chat.*", Start{Kind: StartEarliest}, 0)
	defer late.Close()
	select {
	case m := <-late.Messages():
		t.Fatalf("core message replayed: %q", m.Payload)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestSubscribeFollowsNewStream(t *testing.T) {
	e := newEnv(t)
	s, _ := e.b.Subscribe("later.>", Start{Kind: StartEarliest}, 0)
	defer s.Close()
	e.stream(StreamConfig{Name: "later", Subjects: []string{"later.>"}})
	e.pub("later.x", "stored")
	if m := recv(t, s); string(m.Payload) != "stored" || m.Offset != 0 {
		t.Fatalf("%+v", m)
	}
}

func TestRequestReply(t *testing.T) {
	e := newEnv(t)
	svc, _ := e.b.Subscribe("svc.echo", Start{}, 0)
	defer svc.Close()
	go func() {
		for {
			select {
			case m := <-svc.Messages():
				e.b.Publish(context.Background(), &Message{Subject: m.ReplyTo, Payload: append([]byte("re:"), m.Payload...)}, Expect{})
			case <-svc.Done():
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, err := e.b.Request(ctx, &Message{Subject: "svc.echo", Payload: []byte("hi")})
	if err != nil || string(r.Payload) != "re:hi" {
		t.Fatalf("reply %v %v", r, err)
	}
	if _, err := e.b.Request(ctx, &Message{Subject: "svc.nobody"}); !errors.Is(err, ErrNoResponders) {
		t.Fatalf("no responders: %v", err)
	}
	mute, _ := e.b.Subscribe("svc.mute", Start{}, 0)
	defer mute.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if _, err := e.b.Request(short, &Message{Subject: "svc.mute"}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
}

func TestRequestReplyThroughStream(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "jobs", Subjects: []string{"jobs.*"}})
	e.group(GroupConfig{Name: "workers", Stream: "jobs"})
	w := join(t, e.b, "jobs", "workers", 1)
	go func() {
		d := next(t, w)
		e.b.Publish(context.Background(), &Message{Subject: d.ReplyTo, Payload: []byte("done")}, Expect{})
		d.Ack()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, err := e.b.Request(ctx, &Message{Subject: "jobs.resize", Payload: []byte("img")})
	if err != nil || string(r.Payload) != "done" {
		t.Fatalf("%v %v", r, err)
	}
}

// Resume positions override the start in the partitions they name, and
// the others begin at the start: a resuming client misses nothing in a
// partition it had not heard from yet.
func TestSubscribeResumePerPartition(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", Subjects: []string{"s.*"}, Partitions: 2})
	parts := map[int][]string{}
	for i := range 12 {
		ack := e.pub(fmt.Sprintf("s.%d", i%4), num(i))
		parts[ack.Partition] = append(parts[ack.Partition], num(i))
	}
	if len(parts[0]) < 2 || len(parts[1]) < 2 {
		t.Fatalf("messages not spread over both partitions: %v", parts)
	}
	start := Start{Kind: StartEarliest, Resume: map[PartitionRef]int64{{Stream: "s", Partition: 1}: int64(len(parts[1]) - 1)}}
	s, err := e.b.Subscribe("s.*", start, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[int][]string{}
	for range len(parts[0]) + 1 {
		m := recv(t, s)
		got[m.Partition] = append(got[m.Partition], string(m.Payload))
	}
	if !slices.Equal(got[0], parts[0]) || !slices.Equal(got[1], parts[1][len(parts[1])-1:]) {
		t.Fatalf("got %v, want all of partition 0 %v and the last of partition 1 %v", got, parts[0], parts[1])
	}
}
