package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestStreamCreateListUpdateDelete(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "orders", Subjects: []string{"orders.>"}, Partitions: 3})
	if _, err := e.b.CreateStream(StreamConfig{Name: "orders"}); !errors.Is(err, ErrStreamExists) {
		t.Fatalf("duplicate: %v", err)
	}
	_, err := e.b.CreateStream(StreamConfig{Name: "eu", Subjects: []string{"*.eu.*"}})
	if !errors.Is(err, ErrSubjectCaptured) || !strings.Contains(err.Error(), "orders") {
		t.Fatalf("overlap: %v", err)
	}
	for _, bad := range []StreamConfig{{Name: "a b"}, {Name: "x", Subjects: []string{"a..b"}},
		{Name: "y", Partitions: -1}, {Name: "z", Discard: "maybe"}, {Name: "w", Sync: "sometimes"}} {
		if _, err := e.b.CreateStream(bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	e.stream(StreamConfig{Name: "audit", Subjects: []string{"audit.*"}})
	if l := e.b.Streams(); len(l) != 2 || l[0].Config.Name != "audit" || len(l[1].Partitions) != 3 {
		t.Fatalf("list: %+v", l)
	}
	for i := range 30 {
		e.pub(fmt.Sprintf("orders.%d", i), "x")
	}
	in, err := e.b.UpdateStream(StreamConfig{Name: "orders", Subjects: []string{"orders.>", "returns.>"}, Partitions: 4})
	if err != nil || len(in.Partitions) != 4 {
		t.Fatalf("update: %+v %v", in, err)
	}
	if _, err := e.b.UpdateStream(StreamConfig{Name: "orders", Partitions: 2}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("shrink: %v", err)
	}
	if ack := e.pub("returns.1", "r"); ack.Stream != "orders" {
		t.Fatalf("new subject not captured: %+v", ack)
	}
	var total int64
	for _, p := range e.b.Streams()[1].Partitions {
		total += p.Messages
	}
	if total != 31 {
		t.Fatalf("messages after update: %d", total)
	}
	if err := e.b.DeleteStream("orders"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.StreamInfo("orders"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("deleted stream: %v", err)
	}
	if ack := e.pub("orders.1", "gone"); ack.Stream != "" {
		t.Fatalf("deleted stream still captures: %+v", ack)
	}
	e.restart()
	if l := e.b.Streams(); len(l) != 1 || l[0].Config.Name != "audit" {
		t.Fatalf("after restart: %+v", l)
	}
}

func TestStreamPartitionsByKeyAndSubject(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", Subjects: []string{"s.>"}, Partitions: 8})
	byKey := map[int]bool{}
	for i := range 20 {
		a := e.pub(fmt.Sprintf("s.%d", i), "x", withKey("customer-7"))
		byKey[a.Partition] = true
	}
	bySubj := map[int]bool{}
	for range 5 {
		bySubj[e.pub("s.fixed", "x").Partition] = true
	}
	spread := map[int]bool{}
	for i := range 100 {
		spread[e.pub("s.x", "x", withKey(fmt.Sprint(i))).Partition] = true
	}
	if len(byKey) != 1 || len(bySubj) != 1 || len(spread) < 6 {
		t.Fatalf("same key %v, same subject %v, spread %d", byKey, bySubj, len(spread))
	}
	// Kafka's default partitioner: murmur2("customer-7") positive mod 8.
	if want := int(murmur2([]byte("customer-7"))&0x7fffffff) % 8; !byKey[want] {
		t.Fatalf("key partition %v, want %d", byKey, want)
	}
}

func TestStreamDedupWindow(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", DedupWindow: time.Hour})
	a := e.pub("s", "one", withID("id-1"))
	b := e.pub("s", "one again", withID("id-1"))
	c := e.pub("s", "two", withID("id-2"))
	if !b.Duplicate || b.Offset != a.Offset || c.Duplicate || c.Offset != a.Offset+1 {
		t.Fatalf("acks %+v %+v %+v", a, b, c)
	}
	e.restart() // the window survives: rebuilt from the log
	if d := e.pub("s", "one", withID("id-1")); !d.Duplicate || d.Offset != a.Offset {
		t.Fatalf("after restart %+v", d)
	}
	if in, _ := e.b.StreamInfo("s"); in.Partitions[0].Messages != 2 {
		t.Fatalf("stored %d", in.Partitions[0].Messages)
	}
}

func TestStreamDedupWindowExpires(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", DedupWindow: time.Minute})
	old := time.Now().Add(-2 * time.Minute)
	e.pub("s", "old", withID("id"), func(m *Message) { m.Time = old })
	if a := e.pub("s", "new", withID("id")); a.Duplicate {
		t.Fatalf("id outside the window treated as duplicate: %+v", a)
	}
}

func TestStreamExpectations(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "acct", Subjects: []string{"acct.*"}})
	ctx := context.Background()
	none, zero := int64(-1), int64(0)
	pub := func(subj string, exp Expect) (PubAck, error) {
		return e.b.Publish(ctx, &Message{Subject: subj, Payload: []byte("e")}, exp)
	}
	if _, err := pub("acct.1", Expect{LastSubjectOffset: &none}); err != nil {
		t.Fatal(err)
	}
	if _, err := pub("acct.2", Expect{LastSubjectOffset: &none}); err != nil {
		t.Fatal(err)
	}
	_, err := pub("acct.1", Expect{LastSubjectOffset: &none})
	var wl *WrongLastOffsetError
	if !errors.As(err, &wl) || !errors.Is(err, ErrWrongLastOffset) || wl.Actual != 0 || wl.Subject != "acct.1" {
		t.Fatalf("conflict: %v", err)
	}
	if _, err := pub("acct.1", Expect{LastSubjectOffset: &zero}); err != nil {
		t.Fatal(err)
	}
	last := int64(2)
	if _, err := pub("acct.9", Expect{LastOffset: &zero}); !errors.Is(err, ErrWrongLastOffset) {
		t.Fatalf("stream offset conflict: %v", err)
	}
	if a, err := pub("acct.9", Expect{LastOffset: &last}); err != nil || a.Offset != 3 {
		t.Fatalf("%+v %v", a, err)
	}
	e.restart()
	three := int64(2)
	if _, err := pub("acct.1", Expect{LastSubjectOffset: &three}); err != nil {
		t.Fatalf("subject offsets after restart: %v", err)
	}
	if in, _ := e.b.StreamInfo("acct"); in.Partitions[0].HighWatermark != 5 {
		t.Fatalf("conflicts stored something: hw %d", in.Partitions[0].HighWatermark)
	}
}

func TestStreamLimitsAndErrors(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", MaxMsgSize: 100})
	ctx := context.Background()
	cases := []struct {
		m    *Message
		want error
	}{
		{&Message{Subject: "s", Payload: make([]byte, 101)}, ErrTooLarge},
		{&Message{Subject: "s..x"}, ErrInvalid},
		{&Message{Subject: "s.*"}, ErrInvalid},
		{&Message{Subject: "s", Headers: make([]Header, MaxHeaders+1)}, ErrTooManyHeaders},
		{&Message{Subject: "s", Headers: []Header{{Key: "courier-subject", Value: []byte("x")}}}, ErrReservedHeader},
		{&Message{Subject: "s", ReplyTo: "bad subject"}, ErrInvalid},
	}
	for _, c := range cases {
		if _, err := e.b.Publish(ctx, c.m, Expect{}); !errors.Is(err, c.want) {
			t.Errorf("%+v: got %v, want %v", c.m.Subject, err, c.want)
		}
	}
	if _, err := e.b.StreamInfo("nope"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatal(err)
	}
	if _, err := e.b.CreateGroup(GroupConfig{Name: "g", Stream: "nope"}); !errors.Is(err, ErrStreamNotFound) {
		t.Fatal(err)
	}
	if _, err := e.b.Join("s", "nope", 1); !errors.Is(err, ErrGroupNotFound) {
		t.Fatal(err)
	}
}

func TestStreamDiscardNewRejects(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", MaxMsgs: 3, Discard: DiscardNew})
	for range 3 {
		e.pub("s", "x")
	}
	_, err := e.b.Publish(context.Background(), &Message{Subject: "s"}, Expect{})
	if !errors.Is(err, ErrStreamFull) {
		t.Fatalf("fourth message: %v", err)
	}
}

func TestStreamRetentionAndCompaction(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "kv", Compact: true, SegmentBytes: 512, TombstoneRetention: time.Nanosecond})
	for round := range 5 {
		for k := range 10 {
			e.pub("kv", fmt.Sprintf("v%d", round), withKey(fmt.Sprint(k)))
		}
	}
	e.pub("kv", "", withKey("3")) // delete key 3
	s, _ := e.b.stream("kv")
	if _, err := s.parts[0].log.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	sub, err := e.b.Subscribe("kv", Start{Kind: StartEarliest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	latest := map[string]string{}
	hw := s.parts[0].log.HighWatermark()
	for {
		m := recv(t, sub)
		if _, dup := latest[string(m.Key)]; dup && m.Offset < hw-10 {
			t.Fatalf("key %s seen twice in the compacted part", m.Key)
		}
		latest[string(m.Key)] = string(m.Payload)
		if m.Offset == hw-1 {
			break
		}
	}
	if latest["7"] != "v4" || latest["3"] != "" {
		t.Fatalf("latest %v", latest)
	}

	e.stream(StreamConfig{Name: "r", MaxMsgs: 20, SegmentBytes: 300})
	for i := range 200 {
		e.pub("r", num(i))
	}
	r, _ := e.b.stream("r")
	r.parts[0].log.ApplyRetention()
	in, _ := e.b.StreamInfo("r")
	if p := in.Partitions[0]; p.StartOffset == 0 || p.Messages < 20 || p.Messages > 40 {
		t.Fatalf("retention: %+v", p)
	}
}

func TestStreamPurge(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s"})
	for i := range 10 {
		e.pub("s", num(i))
	}
	if err := e.b.Purge("s", PurgeOptions{Partition: 0, UpTo: 4}); err != nil {
		t.Fatal(err)
	}
	if in, _ := e.b.StreamInfo("s"); in.Partitions[0].StartOffset != 4 {
		t.Fatalf("purge up to 4: %+v", in.Partitions[0])
	}
	if err := e.b.Purge("s", PurgeOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	in, _ := e.b.StreamInfo("s")
	if p := in.Partitions[0]; p.StartOffset != 10 || p.HighWatermark != 10 {
		t.Fatalf("purge all: %+v", p)
	}
}

func TestStreamPurgeSubject(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", Subjects: []string{"s.*"}, SegmentBytes: 400})
	for i := range 30 {
		e.pub([]string{"s.a", "s.b", "s.c"}[i%3], num(i))
	}
	if err := e.b.Purge("s", PurgeOptions{Subject: "s.b"}); err != nil {
		t.Fatal(err)
	}
	sub, _ := e.b.Subscribe("s.*", Start{Kind: StartEarliest}, 0)
	defer sub.Close()
	for range 20 {
		if m := recv(t, sub); m.Subject == "s.b" {
			t.Fatalf("purged subject still there: %+v", m)
		}
	}
	none := int64(-1)
	if _, err := e.b.Publish(context.Background(), &Message{Subject: "s.b"}, Expect{LastSubjectOffset: &none}); err != nil {
		t.Fatalf("purged subject's last offset should be gone: %v", err)
	}
}

// A stream of everything (">") does not take the system subjects ('$'
// first): a stream of "$sys.>" is created beside it and captures them,
// and a subscriber of everything does not see them.
func TestStreamOfEverythingLeavesSystemSubjects(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "all", Subjects: []string{">"}})
	e.stream(StreamConfig{Name: "sys", Subjects: []string{"$sys.>"}})
	sub, err := e.b.Subscribe(">", Start{Kind: StartLatest}, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for _, subj := range []string{"$sys.state", "orders.new"} {
		ack, err := e.b.Publish(context.Background(), &Message{Subject: subj, Payload: []byte(subj)}, Expect{})
		if want := map[string]string{"$sys.state": "sys", "orders.new": "all"}[subj]; err != nil || ack.Stream != want {
			t.Fatalf("publish %s: %+v %v, want stream %s", subj, ack, err, want)
		}
	}
	select {
	case m := <-sub.Messages():
		if m.Subject != "orders.new" {
			t.Fatalf("the subscriber of everything got %s", m.Subject)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing delivered")
	}
}
