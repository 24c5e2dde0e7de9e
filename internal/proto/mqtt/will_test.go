package mqtt

import (
	"testing"
	"testing/synctest"
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

// watchWills connects a raw 3.1.1 client subscribed to every will topic
// at QoS 1.
func (e *fakeEnv) watchWills() *rawClient {
	w := e.raw(4)
	w.connect("watch", true, 0)
	w.send(subscribePk(1, packets.Subscription{Filter: "wills/+", Qos: 1}))
	if pk := w.read(); pk.FixedHeader.Type != packets.Suback {
		e.t.Fatalf("got %s, want SUBACK", packets.PacketNames[pk.FixedHeader.Type])
	}
	return w
}

// will reads the next will and acknowledges it.
func (r *rawClient) will() *packets.Packet {
	r.t.Helper()
	pk := r.read()
	if pk.FixedHeader.Type != packets.Publish || string(pk.Payload) != "gone" || pk.FixedHeader.Qos != 1 {
		r.t.Fatalf("got %s %q qos %d, want a will", packets.PacketNames[pk.FixedHeader.Type], pk.Payload, pk.FixedHeader.Qos)
	}
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
	return pk
}

// noMoreWills lets a long while pass on the fake clock and checks that
// nothing else was sent: a will the server held would be waiting in the
// pipe by then.
func (r *rawClient) noMoreWills() {
	r.t.Helper()
	time.Sleep(time.Minute)
	synctest.Wait()
	if pk, err := r.next(time.Millisecond); err == nil {
		r.t.Fatalf("unexpected %s on %q", packets.PacketNames[pk.FixedHeader.Type], pk.TopicName)
	}
}

// TestWill: the will goes out when the connection drops, not after
// DISCONNECT.
func TestWill(t *testing.T) {
	fake(t, Options{}, func(t *testing.T, e *fakeEnv) {
		w := e.watchWills()
		r := e.raw(4)
		connectWill(r, "polite", 0)
		r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
		r.expectClosed()

		r = e.raw(4)
		connectWill(r, "crash", 0)
		r.nc.Close()
		if pk := w.will(); pk.TopicName != "wills/crash" {
			t.Fatalf("will on %q, want wills/crash", pk.TopicName)
		}
		w.noMoreWills() // none for "polite"
	})
}

// TestWillDelayV5: a v5 will waits its delay and is cancelled when the
// client comes back first; reason 0x04 publishes it after DISCONNECT.
func TestWillDelayV5(t *testing.T) {
	fake(t, Options{}, func(t *testing.T, e *fakeEnv) {
		w := e.watchWills()
		r := e.raw(5)
		connectWill(r, "back", 1)
		r.nc.Close()
		time.Sleep(900 * time.Millisecond)
		r = e.raw(5)
		r.connect("back", false, 0) // within the delay: no will

		r2 := e.raw(5)
		connectWill(r2, "late", 1)
		start := time.Now()
		r2.nc.Close()
		if pk := w.will(); pk.TopicName != "wills/late" {
			t.Fatalf("will on %q, want wills/late", pk.TopicName)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("will after %v, want the 1 s delay", d)
		}

		r3 := e.raw(5)
		connectWill(r3, "asked", 0)
		r3.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ReasonCode: 0x04})
		r3.expectClosed()
		if pk := w.will(); pk.TopicName != "wills/asked" {
			t.Fatalf("will on %q, want wills/asked", pk.TopicName)
		}
		w.noMoreWills() // none for the client that came back
	})
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
	fake(t, Options{}, func(t *testing.T, e *fakeEnv) {
		r := e.raw(5)
		connectWill(r, "phoenix", 1) // session expiry 60 s, will delay 1 s
		r.nc.Close()
		synctest.Wait()
		if n := e.m.Conns(); n != 0 {
			t.Fatalf("%d connections after the close", n)
		}
		start := time.Now()
		e.stop() // before the will is due: Close publishes nothing
		e.start()
		w := e.watchWills()
		if pk := w.will(); pk.TopicName != "wills/phoenix" {
			t.Fatalf("will on %q, want wills/phoenix", pk.TopicName)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("will after %v, want the 1 s delay", d)
		}
		// Published once: the record no longer holds it.
		e.stop()
		e.start()
		e.m.sessions.mu.Lock()
		ss := e.m.sessions.m["phoenix"]
		e.m.sessions.mu.Unlock()
		if ss == nil || ss.will != nil {
			t.Fatalf("session %+v after the will was published", ss)
		}
	})
}
