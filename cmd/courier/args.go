package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Parsing of the argument forms the client commands share.

// header is one k=v pair from --header.
type header struct{ key, value string }

// parseHeaders parses repeated --header k=v values, in order; a value may
// itself contain "=".
func parseHeaders(kvs []string) ([]header, error) {
	out := make([]header, 0, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--header %q: want key=value", kv)
		}
		out = append(out, header{k, v})
	}
	return out, nil
}

// fromKind says where --from starts.
type fromKind int

const (
	fromLive     fromKind = iota // no --from: only what is published from now on
	fromEarliest                 // earliest
	fromLatest                   // latest
	fromOffset                   // an offset
	fromTime                     // an RFC 3339 time
	fromLast                     // last:N, the last N messages
)

// from is a parsed --from.
type from struct {
	kind fromKind
	n    int64 // offset for fromOffset, count for fromLast
	t    time.Time
}

const fromUsage = "earliest, latest, an offset, an RFC 3339 time or last:N"

// parseFrom parses --from: "" (live), earliest, latest, an offset (0 or
// more), an RFC 3339 time, or last:N.
func parseFrom(s string) (from, error) {
	switch s {
	case "":
		return from{kind: fromLive}, nil
	case "earliest", "first", "all":
		return from{kind: fromEarliest}, nil
	case "latest", "new":
		return from{kind: fromLatest}, nil
	}
	if rest, ok := strings.CutPrefix(s, "last:"); ok {
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || n < 1 {
			return from{}, fmt.Errorf("--from %q: last:N wants a count of 1 or more", s)
		}
		return from{kind: fromLast, n: n}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return from{}, fmt.Errorf("--from %q: an offset is 0 or more", s)
		}
		return from{kind: fromOffset, n: n}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return from{kind: fromTime, t: t}, nil
	}
	return from{}, fmt.Errorf("--from %q: want %s", s, fromUsage)
}

// parseSize parses a byte count: a number with an optional unit B, K/KB/KiB,
// M/MB/MiB, G/GB/GiB or T/TB/TiB (every unit is a power of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	}
	shift, ok := map[string]uint{"": 0, "B": 0, "K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20,
		"G": 30, "GB": 30, "GIB": 30, "T": 40, "TB": 40, "TIB": 40}[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (B, KiB, MiB, GiB, TiB)", s)
	}
	return int64(f * float64(uint64(1)<<shift)), nil
}

// sizeFlag is a pflag.Value holding a byte count written with parseSize.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil || *f.n == 0 {
		return "0"
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err == nil {
		*f.n = n
	}
	return err
}

func (f sizeFlag) Type() string { return "size" }
