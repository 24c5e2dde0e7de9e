package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// Output: human-readable tables by default (text/tabwriter), JSON with
// --json. A command that prints one result prints one JSON document; a
// command that prints a stream of messages prints one JSON object per line.

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(toAny(header)...)
	return t
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// row writes one line; each cell prints with %v.
func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprintln(t.tw)
}

func (t *table) flush() error { return t.tw.Flush() }

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeJSONLine writes v as one JSON line.
func writeJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// headerJSON is one message header in JSON output.
type headerJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// messageJSON is a message in JSON output. Key and payload are strings
// when they are UTF-8, else base64 in key_base64 / payload_base64.
type messageJSON struct {
	Subject       string       `json:"subject"`
	Stream        string       `json:"stream,omitempty"`
	Partition     int          `json:"partition"`
	Offset        int64        `json:"offset"`
	Time          *time.Time   `json:"time,omitempty"`
	ID            string       `json:"id,omitempty"`
	ReplyTo       string       `json:"reply_to,omitempty"`
	Deliveries    int          `json:"deliveries,omitempty"`
	Key           string       `json:"key,omitempty"`
	KeyBase64     string       `json:"key_base64,omitempty"`
	Headers       []headerJSON `json:"headers,omitempty"`
	Payload       string       `json:"payload"`
	PayloadBase64 string       `json:"payload_base64,omitempty"`
}

// setBytes stores b as text in s when it is UTF-8, else as base64 in b64.
func setBytes(b []byte, s, b64 *string) {
	if utf8.Valid(b) {
		*s = string(b)
	} else {
		*b64 = base64.StdEncoding.EncodeToString(b)
	}
}

// printable renders bytes for a table or a message line: text as is
// (newlines escaped), anything else as base64 with a b64: prefix.
func printable(b []byte) string {
	if !utf8.Valid(b) {
		return "b64:" + base64.StdEncoding.EncodeToString(b)
	}
	return strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(string(b))
}

// orDash prints "-" for an empty cell.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// orDefault is s, or what the server takes for an empty s.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// human formats a duration for a table; 0 is "-".
func human(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.String()
}

// humanBytes formats a byte count with a binary unit.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
