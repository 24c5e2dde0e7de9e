package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCLITableAligns(t *testing.T) {
	var b bytes.Buffer
	tb := newTable(&b, "NAME", "MESSAGES")
	tb.row("orders", 12)
	tb.row("a", 1234567)
	tb.flush()
	want := "NAME    MESSAGES\norders  12\na       1234567\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestCLIMessageJSON(t *testing.T) {
	var m messageJSON
	setBytes([]byte("hi"), &m.Payload, &m.PayloadBase64)
	setBytes([]byte{0xff, 0}, &m.Key, &m.KeyBase64)
	var b bytes.Buffer
	writeJSONLine(&b, m)
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["payload"] != "hi" || back["key_base64"] != "/wA=" || back["key"] != nil {
		t.Fatalf("%s: %v", b.String(), err)
	}
	if strings.Count(b.String(), "\n") != 1 {
		t.Fatalf("not one line: %q", b.String())
	}
}

func TestCLIHumanFormats(t *testing.T) {
	for in, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		if got := humanBytes(in); got != want {
			t.Fatalf("%d: %q, want %q", in, got, want)
		}
	}
	if printable([]byte("a\nb")) != `a\nb` || printable([]byte{0xff}) != "b64:/w==" {
		t.Fatal("printable")
	}
	if human(0) != "-" || human(time.Minute) != "1m0s" || orDash("") != "-" || orDash("x") != "x" {
		t.Fatal("human, orDash")
	}
}
