package mqtt

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/courier-mq/courier/server"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
)

// bystander is a client that must keep working while others misbehave.
func bystander(t *testing.T, e *testEnv) func() {
	in := newInbox()
	c := e.v3(t, "bystander", true)
	mustTok(t, c.Subscribe("alive", 1, in.v3handler))
	n := 0
	return func() {
		t.Helper()
		n++
		mustTok(t, c.Publish("alive", 1, false, []byte("x")))
		in.wait(t, n)
	}
}

// TestLimitPacketSize: a packet over MaxPacketBytes ends its connection
// (v5: DISCONNECT 0x95; 3.1.1: closed) before its body is read.
func TestLimitPacketSize(t *testing.T) {
	e := startEnv(t, Options{MaxPacketBytes: 1024})
	alive := bystander(t, e)
	for _, v := range []byte{4, 5} {
		r := e.raw(t, v)
		r.connect("big", true, 0)
		// Only the fixed header of a 100 MB packet: refused at once.
		r.write([]byte{0x30, 0x80, 0x80, 0x80, 0x30})
		got := r.expectClosed()
		switch {
		case v == 5 && (len(got) != 1 || got[0].FixedHeader.Type != packets.Disconnect || got[0].ReasonCode != 0x95):
			t.Errorf("v5 got %+v, want DISCONNECT 0x95", got)
		case v == 4 && len(got) != 0:
			t.Errorf("3.1.1 got %+v, want a close", got)
		}
		alive()
	}
	c, _ := e.v5(t, &paho.Connect{ClientID: "paho", CleanStart: true}, nil)
	if _, err := c.Publish(testCtx(t), &paho.Publish{Topic: "t", QoS: 1, Payload: bytes.Repeat([]byte("x"), 2000)}); err == nil {
		t.Error("paho published 2000 bytes past the advertised maximum of 1024")
	}
	alive()
}

// TestLimitMalformed: malformed packets end only their connection.
func TestLimitMalformed(t *testing.T) {
	e := startEnv(t, Options{})
	alive := bystander(t, e)
	cases := []struct {
		name string
		v    byte
		b    []byte
		code byte // v5 DISCONNECT reason, 0 for a plain close
	}{
		{"reserved flags on SUBSCRIBE", 5, []byte{0x80, 0x05, 0, 1, 0, 1, 'a'}, 0x81},
		{"QoS 3 publish", 5, []byte{0x36, 0x03, 0, 1, 'a'}, 0x81},
		{"topic cut short", 5, []byte{0x30, 0x02, 0, 9}, 0x81},
		{"subscribe option byte missing", 5, []byte{0x82, 0x06, 0, 1, 0, 0, 1, 'a'}, 0x81},
		{"length too long", 4, []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, 0},
		{"packet type 0", 4, []byte{0x00, 0x00}, 0},
		{"CONNACK from a client", 5, []byte{0x20, 0x02, 0, 0}, 0x82},
		{"publish without a packet id", 4, []byte{0x32, 0x03, 0, 1, 'a'}, 0},
		{"invalid UTF-8 topic", 5, []byte{0x30, 0x04, 0, 2, 0xff, 0xfe}, 0x81},
		{"AUTH", 5, []byte{0xf0, 0x00}, 0x8C},
	}
	for _, tc := range cases {
		r := e.raw(t, tc.v)
		r.connect(strings.ReplaceAll(tc.name, " ", "-"), true, 0)
		r.write(tc.b)
		got := r.expectClosed()
		if tc.v == 5 && (len(got) != 1 || got[0].FixedHeader.Type != packets.Disconnect || got[0].ReasonCode != tc.code) {
			t.Errorf("%s: got %+v, want DISCONNECT 0x%02x", tc.name, got, tc.code)
		}
		if tc.v == 4 && len(got) != 0 {
			t.Errorf("%s: got %+v, want a close", tc.name, got)
		}
		alive()
	}
}

// TestLimitMalformedConnect: a malformed CONNECT gets a v5 CONNACK with
// the reason, or a close.
func TestLimitMalformedConnect(t *testing.T) {
	e := startEnv(t, Options{})
	alive := bystander(t, e)
	r := e.raw(t, 5)
	// MQTT v5, reserved connect flag bit set.
	r.write([]byte{0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x03, 0, 0, 0, 0, 1, 'x'})
	got := r.expectClosed()
	if len(got) != 1 || got[0].FixedHeader.Type != packets.Connack || got[0].ReasonCode < 0x80 {
		t.Errorf("got %+v, want a failing CONNACK", got)
	}
	r = e.raw(t, 4)
	r.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	r.expectClosed()
	alive()
}

// TestLimitReceiveMaximum: a v5 client past the server's receive maximum
// gets DISCONNECT 0x93.
func TestLimitReceiveMaximum(t *testing.T) {
	e := startEnv(t, Options{})
	alive := bystander(t, e)
	r := e.raw(t, 5)
	ack := r.connect("greedy", true, 0)
	if ack.Properties.ReceiveMaximum != receiveMaximum {
		t.Fatalf("receive maximum %d", ack.Properties.ReceiveMaximum)
	}
	var b bytes.Buffer
	for i := range receiveMaximum + 1 {
		pk := publishPk("rm", 2, uint16(i+1), "x") // never released
		pk.ProtocolVersion = 5
		pk.PublishEncode(&b)
	}
	r.write(b.Bytes())
	got := r.expectClosed()
	if n := len(got); n == 0 || got[n-1].FixedHeader.Type != packets.Disconnect || got[n-1].ReasonCode != 0x93 {
		t.Fatalf("got %d packets, last %+v, want DISCONNECT 0x93", n, got[max(n-1, 0):])
	}
	alive()
}

// TestLimitConnectTimeout: a connection that sends no CONNECT is closed
// when ConnectTimeout has passed (exactly, on the fake clock).
func TestLimitConnectTimeout(t *testing.T) {
	fake(t, Options{ConnectTimeout: 200 * time.Millisecond}, func(t *testing.T, e *fakeEnv) {
		r := e.raw(4)
		start := time.Now()
		r.expectClosed()
		if d := time.Since(start); d != 200*time.Millisecond {
			t.Fatalf("closed after %v, want 200ms", d)
		}
	})
}

// TestLimitSlowConsumer: a subscriber that stops reading is cut off
// WriteTimeout after the write it does not take (exactly, on the fake
// clock), and the others carry on.
func TestLimitSlowConsumer(t *testing.T) {
	fake(t, Options{WriteTimeout: 100 * time.Millisecond}, func(t *testing.T, e *fakeEnv) {
		by := e.raw(4)
		by.connect("bystander", true, 0)
		by.send(subscribePk(1, packets.Subscription{Filter: "alive"}))
		by.read()
		r := e.raw(4)
		r.connect("sloth", true, 0)
		r.send(subscribePk(1, packets.Subscription{Filter: "flood"}))
		r.read()
		e.publish("flood") // the writer blocks on it: r reads no more
		time.Sleep(99 * time.Millisecond)
		synctest.Wait()
		if n := e.m.Conns(); n != 2 {
			t.Fatalf("%d connections before the write timeout, want 2", n)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := e.m.Conns(); n != 1 {
			t.Fatalf("%d connections at the write timeout, want 1", n)
		}
		e.publish("alive")
		if pk := by.read(); pk.FixedHeader.Type != packets.Publish || pk.TopicName != "alive" {
			t.Fatalf("bystander got %s on %q", packets.PacketNames[pk.FixedHeader.Type], pk.TopicName)
		}
	})
}

// TestLimitClientMaxPacketSize: messages larger than the v5 client's
// maximum packet size are not sent to it [MQTT-3.1.2-24].
func TestLimitClientMaxPacketSize(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 5)
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "small", Clean: true}
	pk.Properties.MaximumPacketSize = 100
	r.send(pk)
	r.read()
	r.send(subscribePk(1, packets.Subscription{Filter: "sz", Qos: 1}))
	r.read()
	for _, p := range []string{strings.Repeat("x", 500), "small"} {
		if _, err := e.srv.Publish(testCtx(t), &server.Message{Subject: "sz", Payload: []byte(p)}, server.Expect{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.read(); string(got.Payload) != "small" {
		t.Fatalf("got %d bytes, want only the small message", len(got.Payload))
	}
}
