package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCLIBenchLatencies(t *testing.T) {
	l := newLatencies()
	for i := 1; i <= 1000; i++ {
		l.record(time.Duration(i) * time.Millisecond)
	}
	l.record(2 * time.Minute) // past the range: counted as the maximum
	s := l.summary()
	near := func(got, want float64) bool { return got >= want*0.99 && got <= want*1.01 }
	if s.Count != 1001 || !near(s.P50, 500) || !near(s.P90, 900) || !near(s.P99, 990) || !near(s.Max, 60000) {
		t.Fatalf("%+v", s)
	}
}

func TestCLIBenchStamp(t *testing.T) {
	p := make([]byte, 64)
	at := time.Unix(1700000000, 123456789)
	stamp(p, 42, at)
	if got, ok := readStamp(p, 42); !ok || !got.Equal(at) {
		t.Fatalf("%v %v", got, ok)
	}
	if _, ok := readStamp(p, 43); ok {
		t.Fatal("another run's message accepted")
	}
	if _, ok := readStamp(p[:10], 42); ok {
		t.Fatal("short message accepted")
	}
}

func TestCLIBenchReport(t *testing.T) {
	r := &benchResult{Pubs: 2, Subs: 4, Size: 128, Published: 1000, Received: 1000, Seconds: 0.5,
		PubAck: latencyJSON{P50: 1.5, P90: 2, P99: 3, Max: 4}, EndToEnd: latencyJSON{P50: 2.5, P90: 3, P99: 4, Max: 5}}
	r.rates(500*time.Millisecond, time.Second)
	if r.PubMsgsPerSec != 2000 || r.SubMsgsPerSec != 1000 || r.PubMBPerSec != 0.256 {
		t.Fatalf("rates: %+v", r)
	}
	var b bytes.Buffer
	r.print(&b)
	for _, want := range []string{"2 publishers, 4 members of a shared group", "published  1000  2000", "end-to-end    2.500"} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("no %q in\n%s", want, b.String())
		}
	}
}

func TestCLIBenchFlags(t *testing.T) {
	for _, args := range [][]string{{"--size", "8"}, {"--pubs", "0"}, {"--msgs", "5", "--duration", "1s"}, {"--msgs", "0"}} {
		var out, errw bytes.Buffer
		if code := run(t.Context(), append([]string{"bench", "--server", "127.0.0.1:1"}, args...), nil, &out, &errw); code != 1 ||
			strings.Contains(errw.String(), "nothing listens") {
			t.Fatalf("%v: exit %d, %q", args, code, errw.String())
		}
	}
}

func TestCLICompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_courier", "zsh": "#compdef courier", "fish": "complete -c courier"} {
		var out, errw bytes.Buffer
		if code := run(t.Context(), []string{"completion", shell}, nil, &out, &errw); code != 0 || !strings.Contains(out.String(), want) {
			t.Fatalf("%s: exit %d, %q: %.200s", shell, code, errw.String(), out.String())
		}
	}
}

func TestCLIBenchProgressLine(t *testing.T) {
	b := &benchRun{o: &benchOpts{msgs: 100, subs: 2, plain: true}}
	b.published.Store(100)
	b.received.Store(50) // of 200: a quarter
	want := "[" + strings.Repeat("#", 7) + strings.Repeat(".", 23) + "] published 100/100  received 50"
	if got := b.progressLine(); got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	b.o.subs = 0
	if got := b.progressLine(); !strings.HasPrefix(got, "["+strings.Repeat("#", 30)+"]") {
		t.Fatalf("publish only: %q", got)
	}
}
