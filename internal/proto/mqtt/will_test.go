package mqtt

import (
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

func connectWill(r *rawClient, id string, delay uint32) {
	r.t.Helper()
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: true,
		WillFlag: true, WillTopic: "wills/" + id, WillPayload: []byte("gone"), WillQos: 1}
	pk.Connect.WillProperties.WillDelayInterval = delay
	if r.version == 5 {
		pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 60, true
	}
	r.send(pk)
	if ack := r.read(); ack.ReasonCode != 0 {
		r.t.Fatalf("connack 0x%02x", ack.ReasonCode)
	}
}

// TestWill: the will goes out when the connection drops, not after
// DISCONNECT.
func TestWill(t *testing.T) {
	e := startEnv(t, Options{})
	in := newInbox()
	sub := e.v3(t, "watch", true)
	mustTok(t, sub.Subscribe("wills/+", 1, in.v3handler))

	r := e.raw(t, 4)
	connectWill(r, "polite", 0)
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	r.expectClosed()

	r = e.raw(t, 4)
	connectWill(r, "crash", 0)
	r.nc.Close()
	got := in.wait(t, 1)
	if got[0].topic != "wills/crash" || got[0].payload != "gone" || got[0].qos != 1 {
		t.Fatalf("will %+v", got[0])
	}
	time.Sleep(50 * time.Millisecond) // a will of "polite" would have come by now
	if n := in.count(); n != 1 {
		t.Fatalf("%d wills, want 1", n)
	}
}

// TestWillDelayV5: a v5 will waits its delay and is cancelled when the
// client comes back first; reason 0x04 publishes it after DISCONNECT.
func TestWillDelayV5(t *testing.T) {
	e := startEnv(t, Options{})
	in := newInbox()
	sub := e.v3(t, "watch", true)
	mustTok(t, sub.Subscribe("wills/+", 1, in.v3handler))

	r := e.raw(t, 5)
	connectWill(r, "back", 1)
	r.nc.Close()
	r = e.raw(t, 5)
	r.connect("back", false, 0) // within the delay: no will

	r2 := e.raw(t, 5)
	connectWill(r2, "late", 1)
	start := time.Now()
	r2.nc.Close()
	got := in.wait(t, 1)
	if got[0].topic != "wills/late" {
		t.Fatalf("will %+v", got[0])
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("will after %v, want the 1 s delay", d)
	}

	r3 := e.raw(t, 5)
	connectWill(r3, "asked", 0)
	r3.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ReasonCode: 0x04})
	r3.expectClosed()
	if got := in.wait(t, 2); got[1].topic != "wills/asked" {
		t.Fatalf("will %+v", got[1])
	}
	if n := in.count(); n != 2 {
		t.Fatalf("%d wills, want 2 (none for the client that came back)", n)
	}
}

// TestWillEmptyPayloadRetained: a retained will with an empty payload is
// allowed and clears the topic's retained message.
func TestWillEmptyPayloadRetained(t *testing.T) {
	e := startEnv(t, Options{})
	pub := e.v3(t, "pub", true)
	mustTok(t, pub.Publish("status/dev", 1, true, []byte("online")))
	r := e.raw(t, 4)
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "dev", Clean: true,
		WillFlag: true, WillTopic: "status/dev", WillRetain: true, WillQos: 1}
	r.send(pk)
	if ack := r.read(); ack.ReasonCode != 0 {
		t.Fatalf("connack 0x%02x", ack.ReasonCode)
	}
	r.nc.Close()
	deadline := time.Now().Add(testTimeout)
	for len(e.m.retained.match(&filter{patterns: []string{"status.dev"}})) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("retained message not cleared by the will")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// TestWillDelayAcrossRestart: a will waiting for its delay is kept with
// its persistent session, so a restarted server publishes it when due.
func TestWillDelayAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	e := startEnvDir(t, dir, Options{})
	r := e.raw(t, 5)
	connectWill(r, "phoenix", 1) // session expiry 60 s, will delay 1 s
	r.nc.Close()
	waitConns(t, e, 0)
	start := time.Now()
	e.stop() // before the will is due: Close publishes nothing

	e = startEnvDir(t, dir, Options{})
	in := newInbox()
	sub := e.v3(t, "watch", true)
	mustTok(t, sub.Subscribe("wills/+", 1, in.v3handler))
	got := in.wait(t, 1)
	if got[0].topic != "wills/phoenix" || got[0].payload != "gone" {
		t.Fatalf("will %+v", got[0])
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("will after %v, want the 1 s delay", d)
	}
	// Published once: the record no longer holds it.
	e.stop()
	e = startEnvDir(t, dir, Options{})
	if err := e.m.init(); err != nil { // waits for Serve's
		t.Fatal(err)
	}
	e.m.sessions.mu.Lock()
	ss := e.m.sessions.m["phoenix"]
	e.m.sessions.mu.Unlock()
	if ss == nil || ss.will != nil {
		t.Fatalf("session %+v after the will was published", ss)
	}
}
