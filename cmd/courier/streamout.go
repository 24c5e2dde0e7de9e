package main

import (
	"strings"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

// streamJSON is a stream in JSON output; durations are Go duration
// strings ("1h0m0s").
type streamJSON struct {
	Name               string          `json:"name"`
	Subjects           []string        `json:"subjects"`
	Partitions         int             `json:"partitions"`
	MaxAge             string          `json:"max_age,omitempty"`
	MaxBytes           int64           `json:"max_bytes,omitempty"`
	MaxMsgs            int64           `json:"max_msgs,omitempty"`
	Discard            string          `json:"discard,omitempty"`
	Compact            bool            `json:"compact,omitempty"`
	TombstoneRetention string          `json:"tombstone_retention,omitempty"`
	DedupWindow        string          `json:"dedup_window,omitempty"`
	MaxMsgSize         int             `json:"max_msg_size,omitempty"`
	DefaultTTL         string          `json:"default_ttl,omitempty"`
	Sync               string          `json:"sync,omitempty"`
	SegmentBytes       int64           `json:"segment_bytes,omitempty"`
	Messages           int64           `json:"messages"`
	Bytes              int64           `json:"bytes"`
	State              []partitionJSON `json:"state"`
}

type partitionJSON struct {
	Partition     int   `json:"partition"`
	StartOffset   int64 `json:"start_offset"`
	HighWatermark int64 `json:"high_watermark"`
	Messages      int64 `json:"messages"`
	Bytes         int64 `json:"bytes"`
	Segments      int   `json:"segments"`
}

// durJSON renders a duration for JSON; 0 is "" (omitted).
func durJSON(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func toStreamJSON(s client.StreamInfo) streamJSON {
	c := s.Config
	j := streamJSON{Name: c.Name, Subjects: c.Subjects, Partitions: len(s.Partitions),
		MaxAge: durJSON(c.MaxAge), MaxBytes: c.MaxBytes, MaxMsgs: c.MaxMsgs, Discard: c.Discard,
		Compact: c.Compact, TombstoneRetention: durJSON(c.TombstoneRetention),
		DedupWindow: durJSON(c.DedupWindow), MaxMsgSize: c.MaxMsgSize,
		DefaultTTL: durJSON(c.DefaultTTL), Sync: c.Sync, SegmentBytes: c.SegmentBytes,
		Messages: s.Messages(), Bytes: streamBytes(s), State: []partitionJSON{}}
	for _, p := range s.Partitions {
		j.State = append(j.State, partitionJSON(p))
	}
	return j
}

func streamBytes(s client.StreamInfo) int64 {
	var n int64
	for _, p := range s.Partitions {
		n += p.Bytes
	}
	return n
}

// printStreamInfo prints a stream's configuration and its partitions.
func printStreamInfo(cmd *cobra.Command, asJSON bool, s client.StreamInfo) error {
	w := cmd.OutOrStdout()
	if asJSON {
		return writeJSON(w, toStreamJSON(s))
	}
	c := s.Config
	t := newTable(w, "STREAM", c.Name)
	t.row("subjects", strings.Join(c.Subjects, ","))
	t.row("partitions", len(s.Partitions))
	t.row("max age", human(c.MaxAge))
	t.row("max bytes", limit(c.MaxBytes, humanBytes(c.MaxBytes)))
	t.row("max msgs", limit(c.MaxMsgs, c.MaxMsgs))
	t.row("discard", orDash(c.Discard))
	t.row("compact", c.Compact)
	t.row("dedup window", human(c.DedupWindow))
	t.row("default ttl", human(c.DefaultTTL))
	t.row("sync", orDefault(c.Sync, "always"))
	t.row("messages", s.Messages())
	t.row("bytes", humanBytes(streamBytes(s)))
	t.flush()
	w.Write([]byte("\n"))
	t = newTable(w, "PARTITION", "START", "END", "MESSAGES", "BYTES", "SEGMENTS")
	for _, p := range s.Partitions {
		t.row(p.Partition, p.StartOffset, p.HighWatermark, p.Messages, humanBytes(p.Bytes), p.Segments)
	}
	return t.flush()
}

// limit prints "-" for an unset limit, else v.
func limit(n int64, v any) any {
	if n == 0 {
		return "-"
	}
	return v
}
