package mqtt

import (
	"slices"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
)

func createStream(t *testing.T, e *testEnv, name string, subjects ...string) {
	t.Helper()
	if _, err := e.srv.CreateStream(server.StreamConfig{Name: name, Subjects: subjects}); err != nil {
		t.Fatal(err)
	}
}

func corePublish(t *testing.T, e *testEnv, subject string, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if _, err := e.srv.Publish(testCtx(t), &server.Message{Subject: subject, Payload: []byte(p)}, server.Expect{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionPersistentV3: a 3.1.1 session without clean session keeps
// its subscription and the messages published while it was away, on a
// stream, across a disconnect and a restart of the server.
func TestSessionPersistentV3(t *testing.T) {
	dir := t.TempDir()
	e := startEnvDir(t, dir, Options{})
	createStream(t, e, "dev", "dev.>")
	in := newInbox()
	c := e.v3(t, "keeper", false)
	mustTok(t, c.Subscribe("dev/#", 1, in.v3handler))
	c.Disconnect(50)
	corePublish(t, e, "dev.a", "1", "2")

	in = newInbox()
	c = e.v3(t, "keeper", false, func(o *pahov3Opts) { o.SetDefaultPublishHandler(in.v3handler) })
	if got := payloads(in.wait(t, 2)); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("after reconnect got %v", got)
	}
	waitSettled(t, e, "dev") // paho acknowledges after its handler returns
	c.Disconnect(50)
	corePublish(t, e, "dev.b", "3")
	e.stop()

	e = startEnvDir(t, dir, Options{})
	in = newInbox()
	r := e.raw(t, 4)
	if ack := r.connect("keeper", false, 0); !ack.SessionPresent {
		t.Fatal("session not present after restart")
	}
	pk := r.read()
	if pk.TopicName != "dev/b" || string(pk.Payload) != "3" || pk.FixedHeader.Qos != 1 {
		t.Fatalf("after restart got %s %q QoS %d", pk.TopicName, pk.Payload, pk.FixedHeader.Qos)
	}
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
	// Still subscribed after the restart.
	corePublish(t, e, "dev.c", "4")
	if pk := r.read(); string(pk.Payload) != "4" {
		t.Fatalf("live after restart got %q", pk.Payload)
	}
}

// TestSessionRedeliveryDup: a QoS 1 message not acknowledged before the
// connection drops comes again, marked DUP, on the next connection.
func TestSessionRedeliveryDup(t *testing.T) {
	e := startEnv(t, Options{})
	createStream(t, e, "rd", "rd")
	r := e.raw(t, 4)
	r.connect("redo", false, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "rd", Qos: 1}))
	r.read()
	corePublish(t, e, "rd", "m")
	if pk := r.read(); pk.FixedHeader.Dup || string(pk.Payload) != "m" {
		t.Fatalf("first delivery %+v %q", pk.FixedHeader, pk.Payload)
	}
	r.nc.Close() // no PUBACK
	r = e.raw(t, 4)
	if ack := r.connect("redo", false, 0); !ack.SessionPresent {
		t.Fatal("session not present")
	}
	pk := r.read()
	if !pk.FixedHeader.Dup || string(pk.Payload) != "m" {
		t.Fatalf("redelivery %+v %q, want DUP", pk.FixedHeader, pk.Payload)
	}
}

// TestSessionCleanDiscards: a clean start ends the stored session and
// its groups.
func TestSessionCleanDiscards(t *testing.T) {
	e := startEnv(t, Options{})
	createStream(t, e, "cd", "cd")
	r := e.raw(t, 4)
	r.connect("cl", false, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "cd", Qos: 1}))
	r.read()
	if len(e.srv.Groups("cd")) != 1 {
		t.Fatalf("groups %+v, want the session's", e.srv.Groups("cd"))
	}
	r.nc.Close()
	r = e.raw(t, 4)
	if ack := r.connect("cl", true, 0); ack.SessionPresent {
		t.Fatal("clean session reported present")
	}
	if g := e.srv.Groups("cd"); len(g) != 0 {
		t.Fatalf("groups %+v left after clean start", g)
	}
	r.nc.Close()
	r = e.raw(t, 4)
	if ack := r.connect("cl", false, 0); ack.SessionPresent {
		t.Fatal("session present after a clean one ended")
	}
}

// TestSessionExpiryV5: a v5 session lasts its expiry interval after the
// connection, then ends.
func TestSessionExpiryV5(t *testing.T) {
	e := startEnv(t, Options{})
	c, _ := e.v5(t, &paho.Connect{ClientID: "exp", CleanStart: true, Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(1)}}, nil)
	if _, err := c.Subscribe(testCtx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "x", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	c.Disconnect(&paho.Disconnect{})
	<-c.Done()
	in := newInbox()
	_, ack := e.v5(t, &paho.Connect{ClientID: "exp", Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(1)}}, in)
	if !ack.SessionPresent {
		t.Fatal("session not present within its expiry")
	}
	corePublish(t, e, "x", "kept")
	if r := in.wait(t, 1)[0]; r.payload != "kept" {
		t.Fatalf("got %+v", r)
	}
	r := e.raw(t, 5)
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "exp2"}
	pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 1, true
	r.send(pk)
	r.read()
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	r.expectClosed()
	e.m.init() // a happens-before edge with Serve's init
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.m.sessions.mu.Lock()
		_, ok := e.m.sessions.m["exp2"]
		e.m.sessions.mu.Unlock()
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("session did not expire")
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	_, ack = e.v5(t, &paho.Connect{ClientID: "exp2", Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(1)}}, nil)
	if ack.SessionPresent {
		t.Fatal("session present after expiry")
	}
}

// TestSessionSharedGroup: $share/G/f spreads a stream's messages over the
// members of group G; with no stream the subscription is refused.
func TestSessionSharedGroup(t *testing.T) {
	e := startEnv(t, Options{})
	createStream(t, e, "jobs", "jobs.>")
	in := newInbox()
	for _, id := range []string{"w1", "w2"} {
		c, _ := e.v5(t, &paho.Connect{ClientID: id, CleanStart: true}, in)
		if _, err := c.Subscribe(testCtx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "$share/workers/jobs/#", QoS: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		corePublish(t, e, "jobs.x", string(rune('a'+i)))
	}
	got := payloads(in.wait(t, 20))
	slices.Sort(got)
	if got = slices.Compact(got); len(got) != 20 {
		t.Fatalf("got %d distinct of 20", len(got))
	}
	if info, err := e.srv.GroupInfo("jobs", "workers"); err != nil || info.Config.Mode != server.Shared {
		t.Fatalf("group workers: %+v %v", info, err)
	}
	c, _ := e.v5(t, &paho.Connect{ClientID: "w3", CleanStart: true}, nil)
	sa, _ := c.Subscribe(testCtx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "$share/g/nostream/#", QoS: 1}}})
	if sa == nil || !slices.Equal(sa.Reasons, []byte{0x83}) {
		t.Fatalf("suback %+v, want 0x83", sa)
	}
}

// waitSettled polls until the groups of a stream have nothing in flight.
func waitSettled(t *testing.T, e *testEnv, stream string) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		busy := false
		for _, g := range e.srv.Groups(stream) {
			busy = busy || g.InFlight > 0
		}
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("deliveries still in flight")
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// TestSessionPubrelResent: a PUBREL the client did not complete is sent
// again, with its packet id, when the session reconnects.
func TestSessionPubrelResent(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 4)
	r.connect("rel", false, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "q2", Qos: 2}))
	r.read()
	corePublish(t, e, "q2", "x")
	pk := r.read()
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: pk.PacketID})
	if rel := r.read(); rel.FixedHeader.Type != packets.Pubrel {
		t.Fatalf("got %s, want PUBREL", packets.PacketNames[rel.FixedHeader.Type])
	}
	r.nc.Close() // before PUBCOMP
	r = e.raw(t, 4)
	r.connect("rel", false, 0)
	rel := r.read()
	if rel.FixedHeader.Type != packets.Pubrel || rel.PacketID != pk.PacketID {
		t.Fatalf("got %s %d, want PUBREL %d", packets.PacketNames[rel.FixedHeader.Type], rel.PacketID, pk.PacketID)
	}
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: pk.PacketID})
	corePublish(t, e, "q2", "y")
	if next := r.read(); string(next.Payload) != "y" || next.FixedHeader.Dup {
		t.Fatalf("got %q dup=%v, want y once (x was settled at PUBREC)", next.Payload, next.FixedHeader.Dup)
	}
}

// TestSessionUnsubscribeDropsGroups: unsubscribing ends the session's
// groups for the filter.
func TestSessionUnsubscribeDropsGroups(t *testing.T) {
	e := startEnv(t, Options{})
	createStream(t, e, "us", "us.>")
	c, _ := e.v5(t, &paho.Connect{ClientID: "uns", CleanStart: true, Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(60)}}, nil)
	if _, err := c.Subscribe(testCtx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "us/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if g := e.srv.Groups("us"); len(g) != 1 { // for "us.>"; the stream does not capture "us"
		t.Fatalf("groups %d, want 1", len(g))
	}
	if _, err := c.Unsubscribe(testCtx(t), &paho.Unsubscribe{Topics: []string{"us/#"}}); err != nil {
		t.Fatal(err)
	}
	if g := e.srv.Groups("us"); len(g) != 0 {
		t.Fatalf("groups %+v left after unsubscribe", g)
	}
}

// TestSessionHashFilter: a persistent "#" subscription holds a group on
// every stream, and never sees the front-end's own "$mqtt" subjects.
func TestSessionHashFilter(t *testing.T) {
	e := startEnv(t, Options{})
	createStream(t, e, "all1", "one.>")
	createStream(t, e, "all2", "two")
	r := e.raw(t, 4)
	r.connect("everything", false, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "#", Qos: 1}))
	r.read()
	r.nc.Close()
	pub := e.v3(t, "pub", true)
	mustTok(t, pub.Publish("one/x", 1, true, []byte("1"))) // retained: also writes $mqtt.retained
	corePublish(t, e, "two", "2")
	r = e.raw(t, 4) // also writes $mqtt.sessions
	r.connect("everything", false, 0)
	var got []string
	for range 2 {
		pk := r.read()
		got = append(got, pk.TopicName+"="+string(pk.Payload))
		r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"one/x=1", "two=2"}) {
		t.Fatalf("got %v", got)
	}
	corePublish(t, e, "live.only", "3")
	if pk := r.read(); pk.TopicName != "live/only" {
		t.Fatalf("got %s %q, want live/only (and nothing from $mqtt)", pk.TopicName, pk.Payload)
	}
}

// TestSessionQoS2AcrossRestart: the QoS 2 packet ids of a persistent
// session survive a restart of the server: a received PUBLISH not yet
// released is not published twice, and a PUBREL not completed is sent
// again.
func TestSessionQoS2AcrossRestart(t *testing.T) {
	dir := t.TempDir()
	e := startEnvDir(t, dir, Options{})
	createStream(t, e, "q", "q.>")
	r := e.raw(t, 4)
	r.connect("q2r", false, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "q/out", Qos: 2}))
	r.read()
	r.send(publishPk("q/in", 2, 9, "once"))
	if pk := r.read(); pk.FixedHeader.Type != packets.Pubrec {
		t.Fatalf("got %s", packets.PacketNames[pk.FixedHeader.Type])
	}
	corePublish(t, e, "q.out", "o")
	out := r.read()
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: out.PacketID})
	r.read() // PUBREL
	r.nc.Close()
	waitConns(t, e, 0)
	e.stop()

	e = startEnvDir(t, dir, Options{})
	r = e.raw(t, 4)
	r.connect("q2r", false, 0)
	if rel := r.read(); rel.FixedHeader.Type != packets.Pubrel || rel.PacketID != out.PacketID {
		t.Fatalf("got %s %d, want PUBREL %d", packets.PacketNames[rel.FixedHeader.Type], rel.PacketID, out.PacketID)
	}
	dup := publishPk("q/in", 2, 9, "once")
	dup.FixedHeader.Dup = true
	r.send(dup)
	if pk := r.read(); pk.FixedHeader.Type != packets.Pubrec || pk.PacketID != 9 {
		t.Fatalf("got %s %d", packets.PacketNames[pk.FixedHeader.Type], pk.PacketID)
	}
	if info, _ := e.srv.StreamInfo("q"); info.Partitions[0].HighWatermark != 2 { // "once" and "o"
		t.Fatalf("high watermark %d, want 2: the duplicate was stored", info.Partitions[0].HighWatermark)
	}
}

func waitConns(t *testing.T, e *testEnv, n int64) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for e.m.Conns() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections, want %d", e.m.Conns(), n)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}
