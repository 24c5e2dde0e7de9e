package main

import (
	"strings"
	"testing"
	"time"
)

func TestCLIParseHeaders(t *testing.T) {
	hs, err := parseHeaders([]string{"a=1", "b=x=y", "a=2", "empty="})
	want := []header{{"a", "1"}, {"b", "x=y"}, {"a", "2"}, {"empty", ""}}
	if err != nil || len(hs) != len(want) {
		t.Fatalf("%v %v", hs, err)
	}
	for i := range want {
		if hs[i] != want[i] {
			t.Fatalf("header %d: %v, want %v", i, hs[i], want[i])
		}
	}
	for _, bad := range []string{"novalue", "=v"} {
		if _, err := parseHeaders([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func TestCLIParseFrom(t *testing.T) {
	ts := time.Date(2026, 11, 26, 12, 30, 0, 500, time.UTC)
	for in, want := range map[string]from{
		"":                                  {kind: fromLive},
		"earliest":                          {kind: fromEarliest},
		"latest":                            {kind: fromLatest},
		"0":                                 {kind: fromOffset},
		"42":                                {kind: fromOffset, n: 42},
		"last:5":                            {kind: fromLast, n: 5},
		ts.Format(time.RFC3339Nano):         {kind: fromTime, t: ts},
		"2026-11-26T13:30:00.0000005+01:00": {kind: fromTime, t: ts},
	} {
		got, err := parseFrom(in)
		if err != nil || got.kind != want.kind || got.n != want.n || !got.t.Equal(want.t) {
			t.Fatalf("%q: %+v %v, want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-1", "last:0", "last:x", "yesterday", "2026-11-26"} {
		if _, err := parseFrom(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Fatalf("%q accepted: %v", bad, err)
		}
	}
}

func TestCLIParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "128": 128, "128B": 128, "1K": 1024, "1 KiB": 1024,
		"1.5MiB": 3 << 19, "2g": 2 << 30, "1TB": 1 << 40} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Fatalf("%q: %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1X", "-1", "1.2.3K"} {
		if _, err := parseSize(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	var n int64
	f := sizeFlag{&n}
	if err := f.Set("4KiB"); err != nil || n != 4096 || f.String() != "4096" || f.Type() != "size" {
		t.Fatalf("sizeFlag: %d %v", n, err)
	}
}
