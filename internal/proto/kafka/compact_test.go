package kafka

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A compacted topic keeps only the newest value of each key (and drops
// deleted keys) once compaction has run; offsets stay as they were.
func TestKafkaCompactedTopic(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	cl := e.client(t)
	compact, seg, grace := "compact", "1024", "1"
	_, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": &compact,
		"segment.bytes": &seg, "delete.retention.ms": &grace}, "kv")
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for round := range 5 {
		for k := range 10 {
			recs = append(recs, &kgo.Record{Topic: "kv", Key: fmt.Appendf(nil, "k%d", k), Value: fmt.Appendf(nil, "v%d", round)})
		}
	}
	recs = append(recs, &kgo.Record{Topic: "kv", Key: []byte("k3")}) // delete k3 (null value)
	for i := range 40 {                                              // push the above into sealed segments
		recs = append(recs, &kgo.Record{Topic: "kv", Key: []byte("filler"), Value: fmt.Appendf(nil, "f%d", i)})
	}
	for _, r := range recs {
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := e.srv.Compact(ctx, "kv")
	if err != nil || removed == 0 {
		t.Fatalf("compact: removed %d, %v", removed, err)
	}
	// A consumer that starts after compaction (one started before would
	// have prefetched the records compaction removed).
	got := consumeAll(t, e.client(t, kgo.ConsumeTopics("kv")), len(recs))
	latest := map[string]string{}
	prev := int64(-1)
	for _, r := range got {
		if r.Offset <= prev {
			t.Fatalf("offsets out of order: %d after %d", r.Offset, prev)
		}
		prev = r.Offset
		if k := string(r.Key); k != "filler" {
			if _, dup := latest[k]; dup {
				t.Fatalf("key %s kept twice", k)
			}
			latest[k] = string(r.Value)
		}
	}
	if len(latest) != 9 || latest["k7"] != "v4" {
		t.Fatalf("after compaction: %v", latest)
	}
	if _, ok := latest["k3"]; ok {
		t.Fatalf("deleted key k3 still there: %q", latest["k3"])
	}
}

// consumeAll polls until the record at offset last-1 arrived or nothing
// more comes.
func consumeAll(t *testing.T, cl *kgo.Client, total int) []*kgo.Record {
	t.Helper()
	ctx := testCtx(t)
	var out []*kgo.Record
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out
		}
		out = append(out, fs.Records()...)
		if n := len(out); n > 0 && out[n-1].Offset == int64(total-1) {
			return out
		}
	}
}
