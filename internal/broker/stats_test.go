package broker

import (
	"context"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// TestStatsCountersDoNotAllocate runs every counting step the hot paths
// take (publish, raw batch, read, delivery, fsync): none allocates, so
// they add nothing to Publish's allocations.
func TestStatsCountersDoNotAllocate(t *testing.T) {
	var c streamCounters
	var h histogram
	batch := log.EncodeBatch(nil, []log.Record{{Value: []byte("a")}, {Value: []byte("b")}}, 1)
	runs := int64(0)
	n := testing.AllocsPerRun(1000, func() {
		runs++
		c.addIn(1, 10)
		c.batchIn(batch)
		c.chunkOut(nil, batch, 1)
		c.addOut(1, 10)
		h.observe(300 * time.Microsecond)
	})
	if n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
	if c.msgsIn.Load() != 3*runs || c.msgsOut.Load() != 2*runs || c.bytesIn.Load() != runs*int64(10+len(batch)) {
		t.Fatalf("counted in %d/%d out %d", c.msgsIn.Load(), c.bytesIn.Load(), c.msgsOut.Load())
	}
}

// TestStatsSnapshot checks Stats: counters of a publish and of a
// subscriber's delivery, stored sizes, and the fsync histogram.
func TestStatsSnapshot(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", Subjects: []string{"s.>"}, Partitions: 2})
	sub, err := e.b.Subscribe("s.>", Start{Kind: StartEarliest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := e.b.Publish(context.Background(), &Message{Subject: "s.a", Key: []byte("k"), Payload: []byte("12345")}, Expect{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.Messages():
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := e.b.Stats()
		if err != nil {
			t.Fatal(err)
		}
		s := st.Streams[0]
		if s.MessagesOut == 1 { // counted just after the hand-over
			if s.Name != "s" || s.MessagesIn != 1 || s.BytesIn != 6 || s.BytesOut != 6 || s.Messages != 1 || s.Bytes == 0 {
				t.Fatalf("stream stats %+v", s)
			}
			if h := st.Fsync; h.Count == 0 || h.Cumulative[len(h.Cumulative)-1] > h.Count {
				t.Fatalf("fsync histogram %+v", h)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery not counted: %+v", s)
		}
		time.Sleep(time.Millisecond)
	}
	e.b.Close()
	if _, err := e.b.Stats(); err != ErrClosed {
		t.Fatalf("Stats after Close: %v", err)
	}
}

// TestStatsHistogramBuckets places durations in their buckets.
func TestStatsHistogramBuckets(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{10 * time.Microsecond, 50 * time.Microsecond, 3 * time.Millisecond, 10 * time.Second} {
		h.observe(d)
	}
	s := h.snapshot()
	want := map[float64]uint64{50e-6: 2, 1e-3: 2, 5e-3: 3, 2.5: 3}
	for i, b := range s.Bounds {
		if w, ok := want[b]; ok && s.Cumulative[i] != w {
			t.Errorf("le %v: %d, want %d", b, s.Cumulative[i], w)
		}
	}
	if s.Count != 4 || s.Sum != 10*time.Second+3*time.Millisecond+60*time.Microsecond {
		t.Fatalf("count %d sum %v", s.Count, s.Sum)
	}
}

// BenchmarkStatsPublish publishes small messages without fsync, to show
// the counters' cost (compare allocs/op and ns/op with the parent commit).
func BenchmarkStatsPublish(b *testing.B) {
	e := newEnv(b)
	e.stream(StreamConfig{Name: "s", Subjects: []string{"s"}, Sync: "none"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		m := Message{Subject: "s", Payload: []byte("payload")}
		if _, err := e.b.Publish(ctx, &m, Expect{}); err != nil {
			b.Fatal(err)
		}
	}
}
