package server

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashEnv = "COURIER_CRASH_CHILD_DIR"

// TestServerCrashSIGKILL runs the server in a child process (this test
// binary, re-executed) with 8 publishers that publish with
// acknowledgements and a group member that acks, kills it with SIGKILL
// under load, restarts on the same folder and checks that every
// acknowledged message is in the stream exactly once and that every
// message the group had not acked is delivered again.
func TestServerCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	acked, consumed := runAndKill(t, dir)
	if len(acked) < 200 {
		t.Fatalf("only %d acknowledged publishes before the kill", len(acked))
	}
	s := start(t, dir)
	defer s.Shutdown(context.Background())
	stored := readStream(t, s, "c")
	for id := range acked {
		if stored[id] != 1 {
			t.Fatalf("acknowledged %s stored %d times", id, stored[id])
		}
	}
	for id, n := range stored {
		if n != 1 {
			t.Fatalf("%s stored %d times", id, n)
		}
	}
	want := map[string]bool{}
	for id := range stored {
		if !consumed[id] {
			want[id] = true
		}
	}
	redelivered := drainGroup(t, s, len(want))
	for id := range want {
		if !redelivered[id] {
			t.Fatalf("%s was never acked by the group and not delivered again (%d of %d back)", id, len(redelivered), len(want))
		}
	}
	t.Logf("acked %d, stored %d, group acked %d, delivered again %d", len(acked), len(stored), len(consumed), len(redelivered))
}

// runAndKill starts the child, reads its acknowledgements and kills it.
func runAndKill(t *testing.T, dir string) (acked, consumed map[string]bool) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked, consumed = map[string]bool{}, map[string]bool{}
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			mu.Lock()
			if len(f) == 2 && f[0] == "A" {
				acked[f[1]] = true
			} else if len(f) == 2 && f[0] == "K" {
				consumed[f[1]] = true
			}
			mu.Unlock()
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n, k := len(acked), len(consumed)
		mu.Unlock()
		if n >= 3000 && k >= 500 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	<-done
	return acked, consumed
}

// readStream counts each message id stored in a stream.
func readStream(t *testing.T, s *Server, name string) map[string]int {
	in, err := s.StreamInfo(name)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, p := range in.Partitions {
		total += p.HighWatermark - p.StartOffset
	}
	sub, err := s.Subscribe(name+".>", Start{Kind: StartEarliest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ids := map[string]int{}
	for range total {
		select {
		case m := <-sub.Messages():
			ids[string(m.Payload)]++
		case <-time.After(10 * time.Second):
			t.Fatalf("stream read stalled after %d of %d", len(ids), total)
		}
	}
	return ids
}

// drainGroup joins the group and collects deliveries until n distinct ids
// arrived (and then a little longer, to catch extras) or nothing comes.
func drainGroup(t *testing.T, s *Server, n int) map[string]bool {
	m, err := s.Join("c", "g", 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	got := map[string]bool{}
	quiet := 3 * time.Second
	for {
		select {
		case d := <-m.C():
			got[string(d.Payload)] = true
			d.Ack()
			if len(got) >= n {
				quiet = 200 * time.Millisecond
			}
		case <-time.After(quiet):
			return got
		}
	}
}

// crashChild is the child's workload; it runs until killed.
func crashChild(dir string) {
	s, _ := New(Options{DataDir: dir})
	if err := s.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "child start:", err)
		os.Exit(2)
	}
	s.CreateStream(StreamConfig{Name: "c", Subjects: []string{"c.>"}, Partitions: 2})
	s.CreateGroup(GroupConfig{Name: "g", Stream: "c", AckWait: time.Minute})
	var mu sync.Mutex
	say := func(kind, id string) {
		mu.Lock()
		fmt.Fprintf(os.Stdout, "%s %s\n", kind, id)
		mu.Unlock()
	}
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("p%d-%d", w, i)
				m := &Message{Subject: "c.x", Key: []byte(id), Payload: []byte(id), ID: id}
				if _, err := s.Publish(context.Background(), m, Expect{}); err == nil {
					say("A", id)
				}
			}
		}()
	}
	m, _ := s.Join("c", "g", 4096)
	for d := range m.C() {
		if strings.HasSuffix(string(d.Payload), "7") {
			continue // left unacked: must come back after the crash
		}
		if d.Ack() == nil {
			say("K", string(d.Payload))
		}
	}
}
