package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// A batch is stored in the order given, messages for one partition
// sharing record batches, with ids, expectations, uncaptured subjects and
// refusals handled per message as PublishAsync does.
func TestPublishBatchAsync(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", Subjects: []string{"s.>"}, Partitions: 2, DedupWindow: 60e9, MaxMsgSize: 64})
	ctx := context.Background()
	var pubs []Publish
	for i := range 3000 {
		m := &Message{Subject: fmt.Sprintf("s.%d", i%3), Payload: fmt.Appendf(nil, "m%04d", i)}
		pubs = append(pubs, Publish{Msg: m})
	}
	pubs[10].Msg.ID = "once"
	pubs[20].Msg.ID = "once" // a duplicate: acked with message 10's offset
	pubs[20].Msg.Subject = pubs[10].Msg.Subject
	pubs[30].Msg = &Message{Subject: "elsewhere.x"}
	pubs[40].Msg = &Message{Subject: "s.1", Payload: make([]byte, 100)}
	pubs[50].Msg = &Message{Subject: "bad..subject"}
	zero := int64(0)
	pubs[60].Exp = Expect{LastOffset: &zero} // fails: the partition has more
	res := e.b.PublishBatchAsync(pubs)
	if len(res) != len(pubs) {
		t.Fatalf("%d results for %d messages", len(res), len(pubs))
	}
	acks := make([]PubAck, len(pubs))
	for i, r := range res {
		wantErr := map[int]error{40: ErrTooLarge, 50: ErrInvalid, 60: ErrWrongLastOffset}[i]
		if wantErr != nil {
			if _, err := r.Wait(ctx); !errors.Is(r.Err, wantErr) || err != r.Err {
				t.Fatalf("message %d: err %v, want %v", i, r.Err, wantErr)
			}
			continue
		}
		if r.Err != nil {
			t.Fatalf("message %d: %v", i, r.Err)
		}
		ack, err := r.Wait(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		acks[i] = ack
	}
	if acks[30].Stream != "" || !acks[20].Duplicate || acks[20].Offset != acks[10].Offset || acks[20].Partition != acks[10].Partition {
		t.Fatalf("uncaptured %+v, duplicate %+v of %+v", acks[30], acks[20], acks[10])
	}
	// Per partition, offsets follow the order given, without gaps.
	next := map[int]int64{}
	for i, a := range acks {
		if a.Stream == "" || a.Duplicate {
			continue
		}
		if a.Offset != next[a.Partition] {
			t.Fatalf("message %d: partition %d offset %d, want %d", i, a.Partition, a.Offset, next[a.Partition])
		}
		next[a.Partition]++
	}
	stored := grpStreamMsgs(t, e.b, "s")
	if want := len(pubs) - 5; len(stored) != want {
		t.Fatalf("stored %d, want %d", len(stored), want)
	}
	for _, m := range stored {
		var i int
		if _, err := fmt.Sscanf(string(m.Payload), "m%04d", &i); err != nil {
			continue
		}
		if a := acks[i]; a.Partition != m.Partition || a.Offset != m.Offset || m.Subject != pubs[i].Msg.Subject {
			t.Fatalf("stored %q at %d@%d (%s), acked %+v", m.Payload, m.Partition, m.Offset, m.Subject, a)
		}
	}
	// The subjects' last offsets were kept: an expectation on one holds.
	last := acks[2999].Offset
	w, err := e.b.PublishAsync(&Message{Subject: pubs[2999].Msg.Subject}, Expect{LastSubjectOffset: &last})
	if err != nil {
		t.Fatalf("expectation on the last offset of %s: %v", pubs[2999].Msg.Subject, err)
	}
	if _, err := w(ctx); err != nil {
		t.Fatal(err)
	}
}

// Keyed and keyless messages with one subject, mixed in a batch, each go
// to the partition PublishAsync would pick; a subject that turns invalid
// mid-run is refused; messages without a time share the batch's instant;
// and the caller may reuse the messages and their bytes once
// PublishBatchAsync returns (even one only live subscribers get).
func TestPublishBatchAsyncRoutesAndKeepsNoMessage(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "k", Subjects: []string{"k.>"}, Partitions: 4})
	live, err := e.b.Subscribe("live.>", Start{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	ctx := context.Background()
	keys := []string{"", "a", "", "b", "c", "", "a"}
	var pubs []Publish
	for i, k := range keys {
		m := &Message{Subject: "k.x", Payload: []byte(num(i))}
		if k != "" {
			m.Key = []byte(k)
		}
		pubs = append(pubs, Publish{Msg: m})
	}
	pubs = append(pubs, Publish{Msg: &Message{Subject: "k.x.", Payload: []byte("bad")}},
		Publish{Msg: &Message{Subject: "live.x", Payload: []byte("live")}})
	res := e.b.PublishBatchAsync(pubs)
	for _, pb := range pubs { // the caller reuses its messages and their bytes
		for i := range pb.Msg.Payload {
			pb.Msg.Payload[i] = '#'
		}
		*pb.Msg = Message{Subject: "k.reused", Payload: []byte("reused")}
	}
	if _, err := res[len(keys)].Wait(ctx); !errors.Is(err, ErrInvalid) {
		t.Fatalf("subject k.x.: %v, want ErrInvalid", err)
	}
	for i, k := range keys {
		ack, err := res[i].Wait(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		m := &Message{Subject: "k.x"}
		if k != "" {
			m.Key = []byte(k)
		}
		w, err := e.b.PublishAsync(m, Expect{})
		if err != nil {
			t.Fatal(err)
		}
		alone, err := w(ctx)
		if err != nil || alone.Partition != ack.Partition {
			t.Fatalf("message %d (key %q) went to partition %d, alone to %d (%v)", i, k, ack.Partition, alone.Partition, err)
		}
	}
	stored := grpStreamMsgs(t, e.b, "k")
	var at time.Time
	for _, m := range stored {
		if string(m.Payload) == "reused" || m.Subject != "k.x" {
			t.Fatalf("stored %+v: the caller's reuse reached the log", m)
		}
		if len(m.Payload) > 0 && at.IsZero() {
			at = m.Time
		}
		if len(m.Payload) > 0 && !m.Time.Equal(at) {
			t.Fatalf("message %q stamped %v, the batch's first %v", m.Payload, m.Time, at)
		}
	}
	select {
	case m := <-live.Messages():
		if string(m.Payload) != "live" || m.Subject != "live.x" {
			t.Fatalf("live subscriber got %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the live subscriber got nothing")
	}
}
