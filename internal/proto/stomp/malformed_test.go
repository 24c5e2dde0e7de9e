package stomp

import (
	"testing"
)

// TestMalformedFrames: bad input over a raw socket gets an ERROR, then
// the connection closes.
func TestMalformedFrames(t *testing.T) {
	e := startEnv(t, Options{})
	for _, tc := range []struct{ name, frames, want string }{
		{"unknown command", "FROB\n\n\x00", "unknown command"},
		{"header without colon", "SEND\ndestination\n\n\x00", "malformed header"},
		{"empty header name", "SEND\n:x\n\n\x00", "malformed header"},
		{"no NUL after content-length", "SEND\ndestination:/topic/a\ncontent-length:2\n\nabc\x00", "frame not terminated"},
		{"bad content-length", "SEND\ndestination:/topic/a\ncontent-length:-1\n\n\x00", "bad content-length"},
		{"SEND without destination", "SEND\n\nx\x00", "missing destination"},
		{"bad subject", "SEND\ndestination:/topic/a..b\n\nx\x00", "invalid destination"},
		{"wildcard in SEND", "SEND\ndestination:/topic/a.*\n\nx\x00", "invalid destination"},
		{"temp queue", "SUBSCRIBE\nid:1\ndestination:/temp-queue/x\n\n\x00", "unsupported destination"},
		{"SUBSCRIBE without id", "SUBSCRIBE\ndestination:/topic/a\n\n\x00", "missing id"},
		{"bad ack mode", "SUBSCRIBE\nid:1\nack:sometimes\ndestination:/topic/a\n\n\x00", "invalid ack mode"},
		{"bad prefetch", "SUBSCRIBE\nid:1\nprefetch-count:x\ndestination:/queue/a\n\n\x00", "invalid prefetch-count"},
		{"duplicate subscription", "SUBSCRIBE\nid:1\ndestination:/topic/a\n\n\x00SUBSCRIBE\nid:1\ndestination:/topic/b\n\n\x00", "duplicate subscription"},
		{"unknown unsubscribe", "UNSUBSCRIBE\nid:9\n\n\x00", "unknown subscription"},
		{"ACK without id", "ACK\n\n\x00", "missing id"},
		{"second CONNECT", "CONNECT\naccept-version:1.2\n\n\x00", "already connected"},
		{"reserved header", "SEND\ndestination:/topic/a\ncourier-subject:x\n\n\x00", "reserved header"},
		{"bad ttl", "SEND\ndestination:/topic/a\ncourier-ttl:soon\n\n\x00", "invalid header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := e.rawConnect(t)
			rc.send(tc.frames)
			rc.expectError(tc.want)
		})
	}
}

// TestMalformedReceiptOnError: the ERROR names the receipt of the frame
// it answers.
func TestMalformedReceiptOnError(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.rawConnect(t)
	rc.send("SUBSCRIBE\nreceipt:77\ndestination:/topic/a\n\n\x00")
	if f := rc.expectError("missing id"); f.Value(hdrReceiptID) != "77" {
		t.Fatalf("receipt-id %q", f.Value(hdrReceiptID))
	}
}

// TestMalformedCRLFAndHeartBeats: CRLF lines, EOLs between frames and
// escaped headers are read as the spec says.
func TestMalformedCRLFAndHeartBeats(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.rawConnect(t)
	rc.send("\r\n\n\r\nSUBSCRIBE\r\nid:s\\c1\r\ndestination:/topic/crlf\r\n\r\n\x00\n\n")
	rc.send("SEND\r\ndestination:/topic/crlf\r\nk\\cx:v\\\\\\n\\r\r\nreceipt:r1\r\n\r\nbody\x00\r\n")
	var msg, rcpt *Frame
	for msg == nil || rcpt == nil {
		switch f := rc.read(); f.Command {
		case cmdMessage:
			msg = f
		case cmdReceipt:
			rcpt = f
		default:
			t.Fatalf("got %s %v %q", f.Command, f.Headers, f.Body)
		}
	}
	if msg.Value(hdrSubscription) != "s:1" || msg.Value("k:x") != "v\\\n\r" || string(msg.Body) != "body" {
		t.Fatalf("MESSAGE %v %q", msg.Headers, msg.Body)
	}
	if rcpt.Value(hdrReceiptID) != "r1" {
		t.Fatalf("RECEIPT %v", rcpt.Headers)
	}
}

// TestMalformedConnectNotEscaped: CONNECT headers are taken as they
// are, backslashes included.
func TestMalformedConnectNotEscaped(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.raw(t)
	rc.send("CONNECT\naccept-version:1.2\nlogin:dom\\user\n\n\x00")
	if f := rc.read(); f.Command != cmdConnected {
		t.Fatalf("got %s %v", f.Command, f.Headers)
	}
}
