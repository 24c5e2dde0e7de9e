package client

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAdminStreams(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	si, err := e.c.CreateStream(ctx, StreamConfig{Name: "orders", Subjects: []string{"orders.>"},
		Partitions: 2, MaxAge: time.Hour, DedupWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if si.Config.Name != "orders" || len(si.Partitions) != 2 || si.Config.MaxAge != time.Hour || si.Config.DedupWindow != time.Minute {
		t.Fatalf("created %+v", si)
	}
	si, err = e.c.UpdateStream(ctx, StreamConfig{Name: "orders", Subjects: []string{"orders.>", "returns.>"},
		Partitions: 2, MaxAge: 2 * time.Hour})
	if err != nil || si.Config.MaxAge != 2*time.Hour || len(si.Config.Subjects) != 2 {
		t.Fatalf("updated %+v, %v", si, err)
	}
	for i := range 6 {
		if _, err := e.c.Publish(ctx, &Message{Subject: fmt.Sprintf("orders.%d", i%2), Key: []byte("k"), Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	ack, err := e.c.Publish(ctx, &Message{Subject: "returns.x", ID: "once"})
	if err != nil {
		t.Fatal(err)
	}
	dup, err := e.c.Publish(ctx, &Message{Subject: "returns.x", ID: "once"})
	if err != nil || !dup.Duplicate || dup.Offset != ack.Offset {
		t.Fatalf("second publish of id once: %+v, %v; want a duplicate of %+v", dup, err, ack)
	}
	all, err := e.c.Streams(ctx)
	if err != nil || len(all) != 1 || all[0].Messages() != 7 {
		t.Fatalf("Streams = %+v, %v; want orders with 7 messages", all, err)
	}

	part := 0
	for _, p := range all[0].Partitions {
		if p.Messages >= 6 {
			part = p.Partition
		}
	}
	msgs, next, err := e.c.ReadMessages(ctx, "orders", part, 0, 4)
	if err != nil || len(msgs) != 4 || next != 4 || msgs[0].Stream != "orders" || msgs[3].Offset != 3 {
		t.Fatalf("ReadMessages = %d messages, next %d, %v", len(msgs), next, err)
	}
	if err := e.c.PurgeStream(ctx, "orders", PurgeOptions{Subject: "orders.1"}); err != nil {
		t.Fatal(err)
	}
	if si, _ := e.c.Stream(ctx, "orders"); si.Messages() != 4 {
		t.Fatalf("after purging orders.1: %d messages, want 4", si.Messages())
	}
	if err := e.c.PurgeStream(ctx, "orders", PurgeOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if si, _ := e.c.Stream(ctx, "orders"); si.Messages() != 0 {
		t.Fatalf("after purging all: %d messages", si.Messages())
	}
	if err := e.c.PurgeStream(ctx, "orders", PurgeOptions{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("purge of nothing: %v, want ErrInvalid", err)
	}
	if err := e.c.DeleteStream(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.DeleteStream(ctx, "orders"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("second delete: %v, want ErrStreamNotFound", err)
	}
}

func TestAdminCompact(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	if _, err := e.c.CreateStream(ctx, StreamConfig{Name: "kv", Subjects: []string{"kv.>"}, Compact: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := e.c.Publish(ctx, &Message{Subject: "kv.a", Key: []byte("same"), Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := e.c.CompactStream(ctx, "kv")
	if err != nil {
		t.Fatal(err)
	}
	si, err := e.c.Stream(ctx, "kv")
	if err != nil || removed < 0 || si.Messages()+removed != 10 {
		t.Fatalf("compaction removed %d, %d left (%v)", removed, si.Messages(), err)
	}
	if _, err := e.c.CompactStream(ctx, "nope"); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("compact of a missing stream: %v", err)
	}
}

func TestAdminGroupsAndRedrive(t *testing.T) {
	e := newEnv(t)
	e.stream(t, "jobs", 1, "jobs.>")
	e.stream(t, "dlq", 1, "dead.>")
	ctx := ctxT(t)
	g, err := e.c.CreateGroup(ctx, GroupConfig{Name: "w", Stream: "jobs", Mode: "shared", AckWait: 5 * time.Second,
		Backoff: []time.Duration{time.Millisecond}, MaxDeliveries: 2, DeadLetter: "dead.jobs", Start: StartEarliest()})
	if err != nil {
		t.Fatal(err)
	}
	if g.Config.AckWait != 5*time.Second || g.Config.MaxDeliveries != 2 || g.Config.DeadLetter != "dead.jobs" ||
		g.Config.Start.String() != "earliest" || g.Kind != "courier" {
		t.Fatalf("created %+v", g)
	}
	if _, err := e.c.CreateGroup(ctx, GroupConfig{Name: "w", Stream: "jobs"}); !errors.Is(err, ErrGroupExists) {
		t.Fatalf("second create: %v, want ErrGroupExists", err)
	}
	if _, err := e.c.Publish(ctx, &Message{Subject: "jobs.a", Payload: []byte("poison")}); err != nil {
		t.Fatal(err)
	}
	k, err := e.c.Join(ctx, "jobs", "w")
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Term(ctx, "cannot parse"); err != nil {
		t.Fatal(err)
	}
	k.Close()
	waitFor(t, func() bool { si, _ := e.c.Stream(ctx, "dlq"); return si.Messages() == 1 })
	letters, _, err := e.c.ReadMessages(ctx, "dlq", 0, 0, 0)
	if err != nil || len(letters) != 1 || string(letters[0].Payload) != "poison" {
		t.Fatalf("dead letters %+v, %v", letters, err)
	}
	if reason, _ := letters[0].Header("courier-dlq-error"); !strings.Contains(reason, "cannot parse") {
		t.Errorf("dead letter headers %+v do not carry the reason", letters[0].Headers)
	}
	// The group counts the letter once its publish returned, which may be
	// after the letter shows in the stream.
	waitFor(t, func() bool { gi, err := e.c.Group(ctx, "jobs", "w"); return err == nil && gi.DeadLettered == 1 })
	res, err := e.c.Redrive(ctx, "dlq", RedriveOptions{})
	if err != nil || res.Moved != 1 {
		t.Fatalf("redrive %+v, %v", res, err)
	}
	if si, _ := e.c.Stream(ctx, "jobs"); si.Messages() != 2 {
		t.Fatalf("jobs has %d messages after the redrive, want 2", si.Messages())
	}
	p := 0
	if _, err := e.c.Redrive(ctx, "dlq", RedriveOptions{Partition: &p}); err != nil {
		t.Fatalf("redrive of an empty partition: %v", err)
	}
	gs, err := e.c.Groups(ctx, "jobs")
	if err != nil || len(gs) != 1 || gs[0].Config.Name != "w" {
		t.Fatalf("Groups = %+v, %v", gs, err)
	}
	if err := e.c.DeleteGroup(ctx, "jobs", "w"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Group(ctx, "jobs", "w"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("Group after delete: %v, want ErrGroupNotFound", err)
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	if _, err := e.c.CreateStream(ctx, StreamConfig{Name: "s", Subjects: []string{"s.>"}, MaxMsgSize: 1024}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		want *Error
		code string
	}{
		{"invalid subject", func() error { _, err := e.c.Publish(ctx, &Message{Subject: "s..x"}); return err }, ErrInvalid, "invalid_argument"},
		{"empty subject", func() error { _, err := e.c.Publish(ctx, &Message{}); return err }, ErrInvalid, "invalid_argument"},
		{"oversized message", func() error {
			_, err := e.c.Publish(ctx, &Message{Subject: "s.big", Payload: make([]byte, 2048)})
			return err
		}, ErrTooLarge, "invalid_argument"},
		{"unknown stream", func() error { _, err := e.c.Stream(ctx, "missing"); return err }, ErrStreamNotFound, "not_found"},
		{"subject captured twice", func() error {
			_, err := e.c.CreateStream(ctx, StreamConfig{Name: "t", Subjects: []string{"s.>"}})
			return err
		}, ErrSubjectCaptured, "already_exists"},
		{"wrong subject offset", func() error {
			_, err := e.c.Publish(ctx, &Message{Subject: "s.a"}, ExpectLastSubjectOffset(5))
			return err
		}, ErrWrongLastOffset, "failed_precondition"},
		{"invalid pattern", func() error {
			sub, err := e.c.Subscribe(ctx, "a..b", Start{})
			if err != nil {
				return err
			}
			defer sub.Close()
			_, err = sub.Next(ctx)
			return err
		}, ErrInvalid, "invalid_argument"},
		{"join a missing group", func() error { _, err := e.c.Join(ctx, "s", "g"); return err }, ErrGroupNotFound, "not_found"},
	}
	for _, tc := range cases {
		err := tc.call()
		var ce *Error
		if !errors.As(err, &ce) || !errors.Is(err, tc.want) || ce.Code != tc.code || ce.Message == "" {
			t.Errorf("%s: %v (%+v), want %s with code %s", tc.name, err, ce, tc.want.Reason, tc.code)
		}
	}
	// The connection and the server carry on.
	if _, err := e.c.Publish(ctx, &Message{Subject: "s.ok"}); err != nil {
		t.Fatalf("publish after bad requests: %v", err)
	}
}
