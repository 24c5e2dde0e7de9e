package server

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	goleak.VerifyTestMain(m)
}

func start(t *testing.T, dir string) *Server {
	t.Helper()
	s, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServerRestartKeepsEverything publishes, consumes part of a group,
// leaves a delayed message and unacked ones, shuts down and starts again
// on the same folder (disk, metadata store and all).
func TestServerRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := start(t, dir)
	if _, err := s.CreateStream(StreamConfig{Name: "jobs", Subjects: []string{"jobs.>"}, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateGroup(GroupConfig{Name: "w", Stream: "jobs", AckWait: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := s.Publish(ctx, &Message{Subject: "jobs.x", Key: []byte{byte(i)}, Payload: []byte{byte(i)}}, Expect{}); err != nil {
			t.Fatal(err)
		}
	}
	due := time.Now().Add(300 * time.Millisecond)
	s.Publish(ctx, &Message{Subject: "jobs.later", Payload: []byte("later"), DeliverAt: due}, Expect{})
	m, err := s.Join("jobs", "w", 100)
	if err != nil {
		t.Fatal(err)
	}
	acked := map[byte]bool{}
	for range 10 {
		d := <-m.C()
		if d.Payload[0]%2 == 0 {
			d.Ack()
			acked[d.Payload[0]] = true
		} // odd ones stay unacked
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	s = start(t, dir)
	defer s.Shutdown(ctx)
	if in, err := s.GroupInfo("jobs", "w"); err != nil || in.Config.AckWait != time.Minute {
		t.Fatalf("group after restart: %+v %v", in, err)
	}
	m, _ = s.Join("jobs", "w", 100)
	got := map[byte]int{}
	var later time.Time
	for len(got) < 6 {
		select {
		case d := <-m.C():
			if string(d.Payload) == "later" {
				later = time.Now()
				got['L']++
			} else {
				got[d.Payload[0]] = d.Deliveries
			}
			d.Ack()
		case <-time.After(5 * time.Second):
			t.Fatalf("after restart got %v", got)
		}
	}
	for i := byte(1); i < 10; i += 2 {
		if got[i] != 2 {
			t.Fatalf("unacked %d: deliveries %d (want 2), all %v", i, got[i], got)
		}
	}
	for b := range acked {
		if got[b] != 0 {
			t.Fatalf("acked %d delivered again", b)
		}
	}
	if later.Before(due) {
		t.Fatalf("delayed message delivered %v early", due.Sub(later))
	}
}
