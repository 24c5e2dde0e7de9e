package mqtt

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
)

func TestConnectV3AndV5(t *testing.T) {
	e := startEnv(t, Options{})
	e.v3(t, "v3", true)
	_, ack := e.v5(t, &paho.Connect{ClientID: "v5", CleanStart: true}, nil)
	if ack.ReasonCode != 0 || ack.SessionPresent {
		t.Fatalf("connack %+v", ack)
	}
	if p := ack.Properties; p.MaximumPacketSize == nil || *p.MaximumPacketSize != DefaultMaxPacketBytes || p.TopicAliasMaximum == nil || *p.TopicAliasMaximum != DefaultTopicAliasMax {
		t.Fatalf("connack properties %+v", p)
	}
	if n := e.m.Conns(); n != 2 {
		t.Fatalf("Conns = %d, want 2", n)
	}
}

func TestConnectEmptyClientID(t *testing.T) {
	e := startEnv(t, Options{})
	// v5: the server assigns an id.
	_, ack := e.v5(t, &paho.Connect{CleanStart: true}, nil)
	if ack.Properties == nil || ack.Properties.AssignedClientID == "" {
		t.Fatalf("no assigned client id: %+v", ack.Properties)
	}
	// 3.1.1 with clean session: accepted.
	r := e.raw(t, 4)
	if ack := r.connect("", true, 0); ack.ReasonCode != 0 {
		t.Fatalf("3.1.1 empty id, clean: return code %d", ack.ReasonCode)
	}
	// 3.1.1 without clean session: identifier rejected (0x02), closed.
	r = e.raw(t, 4)
	if ack := r.connect("", false, 0); ack.ReasonCode != 0x02 {
		t.Fatalf("3.1.1 empty id, persistent: return code %d, want 2", ack.ReasonCode)
	}
	r.expectClosed()
}

func TestConnectBadProtocolLevel(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 3)
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "x", Clean: true}
	r.send(pk) // level 3 with the name MQTT
	got := r.expectClosed()
	if len(got) != 1 || got[0].FixedHeader.Type != packets.Connack || got[0].ReasonCode != 0x01 {
		t.Fatalf("got %+v, want CONNACK 0x01", got)
	}
}

func TestConnectFirstPacketMustBeConnect(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 4)
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	if got := r.expectClosed(); len(got) != 0 {
		t.Fatalf("got %d packets before close", len(got))
	}
}

func TestConnectSecondConnectIsProtocolError(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 5)
	r.connect("twice", true, 0)
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "twice", Clean: true}
	r.send(pk)
	got := r.expectClosed()
	if len(got) != 1 || got[0].FixedHeader.Type != packets.Disconnect || got[0].ReasonCode != 0x82 {
		t.Fatalf("got %+v, want DISCONNECT 0x82", got)
	}
}

// TestConnectPingAndKeepAlive: PINGREQ is answered, and a client silent
// for 1.5 times its keep-alive is closed [MQTT-3.1.2-24], not sooner. On
// the fake clock the close comes exactly 1.5 s after the last packet.
func TestConnectPingAndKeepAlive(t *testing.T) {
	fake(t, Options{}, func(t *testing.T, e *fakeEnv) {
		r := e.raw(4)
		r.connect("ka", true, 1)
		time.Sleep(1400 * time.Millisecond) // within 1.5 s: still open
		r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
		if pk := r.read(); pk.FixedHeader.Type != packets.Pingresp {
			t.Fatalf("got %s, want PINGRESP", packets.PacketNames[pk.FixedHeader.Type])
		}
		start := time.Now()
		r.expectClosed()
		if d := time.Since(start); d != 1500*time.Millisecond {
			t.Fatalf("closed %v after the last packet, want 1.5 s", d)
		}
	})
}

func TestConnectTakeover(t *testing.T) {
	e := startEnv(t, Options{})
	var reason atomic.Int32
	reason.Store(-1)
	nc1 := &paho.Connect{ClientID: "same", CleanStart: true}
	c1, _ := e.v5(t, nc1, nil)
	_ = c1
	gone := make(chan struct{})
	go func() { <-c1.Done(); close(gone) }()
	r := e.raw(t, 5)
	if ack := r.connect("same", true, 0); ack.ReasonCode != 0 {
		t.Fatalf("takeover connack %d", ack.ReasonCode)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("first connection not closed")
	}
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	if pk := r.read(); pk.FixedHeader.Type != packets.Pingresp {
		t.Fatal("new connection not working")
	}
}

func TestConnectTakeoverReasonV5(t *testing.T) {
	e := startEnv(t, Options{})
	r1 := e.raw(t, 5)
	r1.connect("dup", true, 0)
	r2 := e.raw(t, 5)
	r2.connect("dup", true, 0)
	got := r1.expectClosed()
	if len(got) != 1 || got[0].FixedHeader.Type != packets.Disconnect || got[0].ReasonCode != 0x8E {
		t.Fatalf("first connection got %+v, want DISCONNECT 0x8E", got)
	}
}

func TestConnectShutdownTellsV5Clients(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 5)
	r.connect("bye", true, 0)
	done := make(chan error, 1)
	go func() { done <- e.m.Shutdown(testCtx(t)) }()
	got := r.expectClosed()
	if len(got) != 1 || got[0].ReasonCode != 0x8B {
		t.Fatalf("got %+v, want DISCONNECT 0x8B", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestConnectUsers: with Options.Users, a wrong or missing password gets
// CONNACK 0x86 (v5) or 0x04 (3.1.1).
func TestConnectUsers(t *testing.T) {
	e := startEnv(t, Options{Users: map[string]string{"alice": "s3cret"}})
	for _, tc := range []struct {
		v          byte
		user, pass string
		code       byte
	}{
		{5, "alice", "s3cret", 0}, {4, "alice", "s3cret", 0},
		{5, "alice", "nope", 0x86}, {4, "alice", "nope", 0x04},
		{5, "bob", "s3cret", 0x86}, {4, "", "", 0x04},
	} {
		r := e.raw(t, tc.v)
		pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
		pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "u", Clean: true}
		if tc.user != "" {
			pk.Connect.Username, pk.Connect.UsernameFlag = []byte(tc.user), true
			pk.Connect.Password, pk.Connect.PasswordFlag = []byte(tc.pass), true
		}
		r.send(pk)
		ack := r.read()
		if ack.FixedHeader.Type != packets.Connack || ack.ReasonCode != tc.code {
			t.Errorf("v%d %s/%s: CONNACK 0x%02x, want 0x%02x", tc.v, tc.user, tc.pass, ack.ReasonCode, tc.code)
		}
		if tc.code != 0 {
			if got := r.expectClosed(); len(got) != 0 {
				t.Errorf("v%d %s/%s: %d more packets", tc.v, tc.user, tc.pass, len(got))
			}
		}
	}
}

// TestConnectBadWillTopic: a will topic that maps to no subject is
// refused with CONNACK 0x90 in v5 (one CONNACK only).
func TestConnectBadWillTopic(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 5)
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "w", Clean: true,
		WillFlag: true, WillTopic: "a//b", WillPayload: []byte("x")}
	r.send(pk)
	got := r.expectClosed()
	if len(got) != 1 || got[0].FixedHeader.Type != packets.Connack || got[0].ReasonCode != 0x90 {
		t.Fatalf("got %+v, want one CONNACK 0x90", got)
	}
}
