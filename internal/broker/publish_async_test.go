package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// Messages published one after another with PublishAsync are stored in
// that order; duplicates are acked with the original's offset; failures
// come back at once, without a wait.
func TestPublishAsyncOrderDupsAndRefusals(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", Subjects: []string{"s.>"}, DedupWindow: 60e9, MaxMsgSize: 64})
	ctx := context.Background()
	var waits []func(context.Context) (PubAck, error)
	for i := range 40 {
		w, err := e.b.PublishAsync(&Message{Subject: "s.a", Payload: fmt.Appendf(nil, "m%02d", i), ID: fmt.Sprint(i % 30)}, Expect{})
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	for i, w := range waits {
		ack, err := w(ctx)
		if err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
		if i < 30 && (ack.Offset != int64(i) || ack.Duplicate) {
			t.Fatalf("message %d: ack %+v", i, ack)
		}
		if i >= 30 && (ack.Offset != int64(i-30) || !ack.Duplicate) {
			t.Fatalf("duplicate %d: ack %+v", i, ack)
		}
	}
	msgs := grpStreamMsgs(t, e.b, "s")
	if len(msgs) != 30 {
		t.Fatalf("stored %d messages, want 30", len(msgs))
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("m%02d", i); string(m.Payload) != want {
			t.Fatalf("message %d = %q, want %q", i, m.Payload, want)
		}
	}
	last := int64(3)
	if w, err := e.b.PublishAsync(&Message{Subject: "s.a"}, Expect{LastOffset: &last}); !errors.Is(err, ErrWrongLastOffset) || w != nil {
		t.Fatalf("expectation: err %v", err)
	}
	if _, err := e.b.PublishAsync(&Message{Subject: "s.a", Payload: make([]byte, 100)}, Expect{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	w, err := e.b.PublishAsync(&Message{Subject: "nobody.listens"}, Expect{})
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := w(ctx); err != nil || ack.Stream != "" || ack.Offset != -1 {
		t.Fatalf("uncaptured: %+v %v", ack, err)
	}
}
