package stomp

import (
	"strings"
	"testing"
	"time"

	"github.com/go-stomp/stomp/v3"
)

// TestLimitsCrossed: every limit crossed gets an ERROR and closes only
// its connection; a client connected meanwhile carries on.
func TestLimitsCrossed(t *testing.T) {
	e := startEnv(t, Options{MaxLineBytes: 256, MaxHeaders: 8, MaxHeaderBytes: 512, MaxBodyBytes: 1024, MaxSubscriptions: 2})
	by := e.dial(t)
	bySub, err := by.Subscribe("/topic/bystander", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 300)
	manyHeaders := strings.Repeat("h:v\n", 9)
	bigHeaders := strings.Repeat("h:"+strings.Repeat("v", 100)+"\n", 6)
	for _, tc := range []struct{ name, frames, want string }{
		{"command line", long + "\n\n\x00", "line too long"},
		{"header line", "SEND\ndestination:/topic/a\nh:" + long + "\n\n\x00", "line too long"},
		{"header count", "SEND\ndestination:/topic/a\n" + manyHeaders + "\n\x00", "too many headers"},
		{"header bytes", "SEND\n" + bigHeaders + "\n\x00", "headers too large"},
		{"content-length", "SEND\ndestination:/topic/a\ncontent-length:1025\n\n", "body too large"},
		{"NUL-terminated body", "SEND\ndestination:/topic/a\n\n" + strings.Repeat("b", 1100) + "\x00", "body too large"},
		{"bad escape", "SEND\ndestination:/topic/a\nh:a\\tb\n\n\x00", "bad escape"},
		{"lone backslash", "SEND\ndestination:/topic/a\nh:ab\\\n\n\x00", "bad escape"},
		{"subscriptions", "SUBSCRIBE\nid:1\ndestination:/topic/a\n\n\x00SUBSCRIBE\nid:2\ndestination:/topic/a\n\n\x00SUBSCRIBE\nid:3\ndestination:/topic/a\n\n\x00", "too many subscriptions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := e.rawConnect(t)
			rc.send(tc.frames)
			rc.expectError(tc.want)
			if err := by.Send("/topic/bystander", "", []byte(tc.name)); err != nil {
				t.Fatal(err)
			}
			if m := recv(t, bySub); string(m.Body) != tc.name {
				t.Fatalf("bystander got %q", m.Body)
			}
		})
	}
	waitConns(t, e.st, 1)
}

// TestLimitsBodyAtLimit: a body of exactly MaxBodyBytes passes, either
// way it is delimited.
func TestLimitsBodyAtLimit(t *testing.T) {
	e := startEnv(t, Options{MaxBodyBytes: 1024})
	c := e.dial(t)
	sub, err := c.Subscribe("/topic/big", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(strings.Repeat("z", 1024))
	if err := c.Send("/topic/big", "", body, stomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	if err := c.Send("/topic/big", "", body, stomp.SendOpt.NoContentLength, stomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if m := recv(t, sub); len(m.Body) != 1024 {
			t.Fatalf("got %d bytes", len(m.Body))
		}
	}
}

func TestLimitsConnectTimeout(t *testing.T) {
	e := startEnv(t, Options{ConnectTimeout: 50 * time.Millisecond})
	rc := e.raw(t)
	rc.expectEOF()
}

// TestLimitsBrokerMessageSize: a body the stream refuses gets an ERROR.
func TestLimitsBrokerMessageSize(t *testing.T) {
	e := startEnv(t, Options{MaxBodyBytes: 4 << 20})
	rc := e.rawConnect(t)
	body := strings.Repeat("q", 2<<20)
	rc.send("SEND\ndestination:/queue/sized\nreceipt:r\ncontent-length:2097152\n\n" + body + "\x00")
	f := rc.expectError("message too large")
	if f.Value(hdrReceiptID) != "r" {
		t.Errorf("receipt-id %q", f.Value(hdrReceiptID))
	}
}
