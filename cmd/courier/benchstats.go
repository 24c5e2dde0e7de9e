package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// latencies is an HDR histogram of durations in microseconds (1 µs to
// 1 min, 3 significant digits), safe for concurrent use.
type latencies struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram // guarded by mu
}

func newLatencies() *latencies {
	return &latencies{h: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)}
}

// record adds d; values past the range count as the maximum.
func (l *latencies) record(d time.Duration) {
	us := max(int64(d/time.Microsecond), 1)
	l.mu.Lock()
	if l.h.RecordValue(us) != nil {
		l.h.RecordValue(l.h.HighestTrackableValue())
	}
	l.mu.Unlock()
}

// latencyJSON is a latency summary in milliseconds.
type latencyJSON struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (l *latencies) summary() latencyJSON {
	l.mu.Lock()
	defer l.mu.Unlock()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return latencyJSON{Count: l.h.TotalCount(), P50: ms(l.h.ValueAtQuantile(50)), P90: ms(l.h.ValueAtQuantile(90)),
		P99: ms(l.h.ValueAtQuantile(99)), Max: ms(l.h.Max())}
}

// A bench payload starts with a stamp: the run's id and the time of
// sending (Unix nanoseconds), so consumers measure end-to-end latency and
// skip messages of other runs.
const stampSize = 16

func stamp(p []byte, run uint64, t time.Time) {
	binary.BigEndian.PutUint64(p, run)
	binary.BigEndian.PutUint64(p[8:], uint64(t.UnixNano()))
}

// readStamp returns the time a message of run was sent, or false when it
// is not one of run's.
func readStamp(p []byte, run uint64) (time.Time, bool) {
	if len(p) < stampSize || binary.BigEndian.Uint64(p) != run {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(p[8:]))), true
}

// benchResult is what `courier bench` reports.
type benchResult struct {
	Stream        string      `json:"stream"`
	Subject       string      `json:"subject"`
	Pubs          int         `json:"pubs"`
	Subs          int         `json:"subs"`
	Plain         bool        `json:"plain,omitempty"`
	Size          int         `json:"size"`
	Seconds       float64     `json:"seconds"`
	Published     int64       `json:"published"`
	PublishErrors int64       `json:"publish_errors,omitempty"`
	Received      int64       `json:"received"`
	PubMsgsPerSec float64     `json:"pub_msgs_per_sec"`
	PubMBPerSec   float64     `json:"pub_mb_per_sec"`
	SubMsgsPerSec float64     `json:"sub_msgs_per_sec"`
	SubMBPerSec   float64     `json:"sub_mb_per_sec"`
	PubAck        latencyJSON `json:"publish_ack_latency"`
	EndToEnd      latencyJSON `json:"end_to_end_latency"`
	Error         string      `json:"error,omitempty"` // the first error of a publisher or consumer
}

// rates fills in the throughput figures.
func (r *benchResult) rates(pubTime, subTime time.Duration) {
	per := func(n int64, d time.Duration) float64 {
		if d <= 0 {
			return 0
		}
		return float64(n) / d.Seconds()
	}
	r.PubMsgsPerSec = per(r.Published, pubTime)
	r.PubMBPerSec = r.PubMsgsPerSec * float64(r.Size) / 1e6
	r.SubMsgsPerSec = per(r.Received, subTime)
	r.SubMBPerSec = r.SubMsgsPerSec * float64(r.Size) / 1e6
}

func (r *benchResult) print(w io.Writer) {
	fmt.Fprintf(w, "%d publishers, %d %s, %d-byte messages, %.2fs\n", r.Pubs, r.Subs, r.consumerKind(), r.Size, r.Seconds)
	t := newTable(w, "", "MSGS", "MSGS/S", "MB/S")
	t.row("published", r.Published, fmt.Sprintf("%.0f", r.PubMsgsPerSec), fmt.Sprintf("%.2f", r.PubMBPerSec))
	if r.Subs > 0 {
		t.row("received", r.Received, fmt.Sprintf("%.0f", r.SubMsgsPerSec), fmt.Sprintf("%.2f", r.SubMBPerSec))
	}
	t.flush()
	fmt.Fprintln(w)
	t = newTable(w, "LATENCY (ms)", "P50", "P90", "P99", "MAX")
	lat := func(name string, l latencyJSON) {
		t.row(name, fmt.Sprintf("%.3f", l.P50), fmt.Sprintf("%.3f", l.P90), fmt.Sprintf("%.3f", l.P99), fmt.Sprintf("%.3f", l.Max))
	}
	lat("publish-ack", r.PubAck)
	if r.Subs > 0 {
		lat("end-to-end", r.EndToEnd)
	}
	t.flush()
	if r.PublishErrors > 0 {
		fmt.Fprintf(w, "\n%d publishes failed\n", r.PublishErrors)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "\nfirst error: %s\n", r.Error)
	}
}

func (r *benchResult) consumerKind() string {
	if r.Plain {
		return "plain subscribers"
	}
	return "members of a shared group"
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
