package stomp

import (
	"testing"
	"time"

	"github.com/go-stomp/stomp/v3"
)

func TestConnectVersions(t *testing.T) {
	e := startEnv(t, Options{})
	for _, v := range []stomp.Version{stomp.V10, stomp.V11, stomp.V12} {
		c := e.dial(t, stomp.ConnOpt.AcceptVersion(v))
		if c.Version() != v {
			t.Errorf("accept %s: negotiated %s", v, c.Version())
		}
		if c.Server() != serverName || c.Session() == "" {
			t.Errorf("server %q session %q", c.Server(), c.Session())
		}
		if err := c.Disconnect(); err != nil {
			t.Errorf("disconnect %s: %v", v, err)
		}
	}
	c := e.dial(t)
	if c.Version() != stomp.V12 {
		t.Errorf("default negotiation: %s, want 1.2", c.Version())
	}
}

func TestConnectUnsupportedVersion(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.raw(t)
	rc.send("CONNECT\naccept-version:2.0,3.1\n\n\x00")
	f := rc.expectError("unsupported STOMP version")
	if v := f.Value(hdrVersion); v != supportedVersions {
		t.Errorf("version header %q, want %q", v, supportedVersions)
	}
}

func TestConnectNoAcceptVersionIs10(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.raw(t)
	rc.send("STOMP\n\n\x00")
	f := rc.read()
	if f.Command != cmdConnected || f.Value(hdrVersion) != "1.0" {
		t.Fatalf("got %s %v", f.Command, f.Headers)
	}
}

func TestConnectFirstFrameMustBeConnect(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.raw(t)
	rc.send("SEND\ndestination:/topic/a\n\nhi\x00")
	rc.expectError("not connected")
}

func TestConnectHeartBeatsSent(t *testing.T) {
	e := startEnv(t, Options{HeartBeat: HeartBeat{Send: 20 * time.Millisecond, Receive: time.Hour}})
	rc := e.raw(t)
	rc.send("CONNECT\naccept-version:1.2\nheart-beat:0,30\n\n\x00")
	f := rc.read()
	if hb := f.Value(hdrHeartBeat); hb != "20,3600000" {
		t.Fatalf("CONNECTED heart-beat %q", hb)
	}
	// The server sends EOLs every 30 ms (max of 20 and the client's 30).
	beats := 0
	buf := make([]byte, 1)
	for beats < 3 {
		if _, err := rc.r.br.Read(buf); err != nil {
			t.Fatalf("after %d heart-beats: %v", beats, err)
		}
		if buf[0] != '\n' {
			t.Fatalf("got %q, want heart-beat EOLs", buf)
		}
		beats++
	}
}

func TestConnectSilentClientDropped(t *testing.T) {
	e := startEnv(t, Options{HeartBeat: HeartBeat{Send: -1, Receive: 20 * time.Millisecond}})
	rc := e.raw(t)
	start := time.Now()
	rc.send("CONNECT\naccept-version:1.2\nheart-beat:30,0\n\n\x00")
	if f := rc.read(); f.Value(hdrHeartBeat) != "0,20" {
		t.Fatalf("CONNECTED heart-beat %q", f.Value(hdrHeartBeat))
	}
	rc.expectEOF() // nothing sent: dropped after 2×30 ms
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("dropped after %v, before the grace of 60 ms", d)
	}
}

func TestConnectHeartBeatsKeepAlive(t *testing.T) {
	e := startEnv(t, Options{HeartBeat: HeartBeat{Send: 100 * time.Millisecond, Receive: 100 * time.Millisecond}})
	c := e.dial(t, stomp.ConnOpt.HeartBeat(100*time.Millisecond, 100*time.Millisecond), stomp.ConnOpt.HeartBeatError(time.Second))
	sub, err := c.Subscribe("/topic/hb", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	// Idle for many intervals: both sides' heart-beats keep it open.
	time.Sleep(700 * time.Millisecond)
	if err := c.Send("/topic/hb", "text/plain", []byte("alive"), stomp.SendOpt.Receipt); err != nil {
		t.Fatalf("send after idling: %v", err)
	}
	if m := recv(t, sub); string(m.Body) != "alive" {
		t.Fatalf("got %q", m.Body)
	}
}

func TestConnectAuthentication(t *testing.T) {
	e := startEnv(t, Options{Users: map[string]string{"ann": "s3cret"}})
	c := e.dial(t, stomp.ConnOpt.Login("ann", "s3cret"))
	if err := c.Send("/topic/auth", "", nil, stomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	for _, cred := range []string{"login:ann\npasscode:wrong\n", "login:bob\npasscode:s3cret\n", ""} {
		rc := e.raw(t)
		rc.send("CONNECT\naccept-version:1.2\n" + cred + "\n\x00")
		rc.expectError("access refused")
	}
}
