package mqtt

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/server"
	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
)

func mustTok(t *testing.T, tok interface {
	WaitTimeout(time.Duration) bool
	Error() error
}) {
	t.Helper()
	if !tok.WaitTimeout(testTimeout) {
		t.Fatal("timed out")
	}
	if err := tok.Error(); err != nil {
		t.Fatal(err)
	}
}

// TestPubSubQoSDowngrade: delivery is at min(publish QoS, subscription
// QoS), for each pair, over 3.1.1.
func TestPubSubQoSDowngrade(t *testing.T) {
	e := startEnv(t, Options{})
	pub := e.v3(t, "pub", true)
	for sq := byte(0); sq <= 2; sq++ {
		in := newInbox()
		sub := e.v3(t, fmt.Sprintf("sub%d", sq), true)
		topic := fmt.Sprintf("q/%d", sq)
		mustTok(t, sub.Subscribe(topic, sq, in.v3handler))
		for pq := byte(0); pq <= 2; pq++ {
			mustTok(t, pub.Publish(topic, pq, false, []byte{'0' + pq}))
		}
		got := in.wait(t, 3)
		slices.SortFunc(got, func(a, b recv) int { return int(a.payload[0]) - int(b.payload[0]) })
		for pq, r := range got {
			if want := min(byte(pq), sq); r.qos != want || r.topic != topic {
				t.Errorf("sub QoS %d, pub QoS %d: got QoS %d on %q, want %d", sq, pq, r.qos, r.topic, want)
			}
		}
	}
}

func TestPubSubWildcards(t *testing.T) {
	e := startEnv(t, Options{})
	in := newInbox()
	sub := e.v3(t, "sub", true)
	mustTok(t, sub.Subscribe("home/#", 1, in.v3handler))
	in2 := newInbox()
	sub2 := e.v3(t, "sub2", true) // paho routes a message to every matching handler of a client
	mustTok(t, sub2.Subscribe("+/kitchen/+", 1, in2.v3handler))
	pub := e.v3(t, "pub", true)
	for _, tp := range []string{"home", "home/kitchen/temp", "office/kitchen/temp", "home/x"} {
		mustTok(t, pub.Publish(tp, 1, false, []byte(tp)))
	}
	got := payloads(in.wait(t, 3))
	slices.Sort(got)
	if want := []string{"home", "home/kitchen/temp", "home/x"}; !slices.Equal(got, want) {
		t.Errorf("home/# got %v, want %v (a/# matches a itself)", got, want)
	}
	got = payloads(in2.wait(t, 2))
	slices.Sort(got)
	if want := []string{"home/kitchen/temp", "office/kitchen/temp"}; !slices.Equal(got, want) {
		t.Errorf("+/kitchen/+ got %v, want %v", got, want)
	}
}

// TestPubSubCrossProtocol: a core publish reaches an MQTT subscriber with
// the mapped topic; an MQTT publish reaches a core subscription and a
// group on the stream that captures it, acknowledged once durable.
func TestPubSubCrossProtocol(t *testing.T) {
	e := startEnv(t, Options{})
	if _, err := e.srv.CreateStream(server.StreamConfig{Name: "sensors", Subjects: []string{"sensors.>"}}); err != nil {
		t.Fatal(err)
	}
	in := newInbox()
	sub := e.v3(t, "sub", true)
	mustTok(t, sub.Subscribe("orders/+/created", 1, in.v3handler))
	if _, err := e.srv.Publish(testCtx(t), &server.Message{Subject: "orders.eu.created", Payload: []byte("o1")}, server.Expect{}); err != nil {
		t.Fatal(err)
	}
	if r := in.wait(t, 1)[0]; r.topic != "orders/eu/created" || r.payload != "o1" || r.qos != 1 {
		t.Fatalf("got %+v", r)
	}

	if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "g", Stream: "sensors", Mode: server.Shared, Start: server.Start{Kind: server.StartEarliest}}); err != nil {
		t.Fatal(err)
	}
	pub := e.v3(t, "pub", true)
	mustTok(t, pub.Publish("sensors/t1/temp", 1, false, []byte("21.5")))
	// PUBACK came after the durable publish: the stream has it now.
	if info, _ := e.srv.StreamInfo("sensors"); info.Partitions[0].HighWatermark != 1 {
		t.Fatalf("high watermark %d after PUBACK, want 1", info.Partitions[0].HighWatermark)
	}
	s, err := e.srv.Subscribe("sensors.>", server.Start{Kind: server.StartEarliest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case m := <-s.Messages():
		if m.Subject != "sensors.t1.temp" || string(m.Payload) != "21.5" {
			t.Fatalf("core got %s %q", m.Subject, m.Payload)
		}
		if pm, ok := metaOf(m); !ok || pm != (pubMeta{qos: 1, client: "pub"}) {
			t.Fatalf("%s header: %+v %v", hdrMeta, pm, ok)
		}
	case <-time.After(testTimeout):
		t.Fatal("core subscription got nothing")
	}
	mem, err := e.srv.Join("sensors", "g", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Leave()
	select {
	case d := <-mem.C():
		if d.Subject != "sensors.t1.temp" {
			t.Fatalf("group got %s", d.Subject)
		}
		d.Ack()
	case <-time.After(testTimeout):
		t.Fatal("group got nothing")
	}
}

func TestPubSubUnsubscribe(t *testing.T) {
	e := startEnv(t, Options{})
	in := newInbox()
	sub := e.v3(t, "sub", true)
	mustTok(t, sub.Subscribe("u/1", 0, in.v3handler))
	pub := e.v3(t, "pub", true)
	mustTok(t, pub.Publish("u/1", 0, false, []byte("a")))
	in.wait(t, 1)
	mustTok(t, sub.Unsubscribe("u/1"))
	mustTok(t, pub.Publish("u/1", 1, false, []byte("b")))
	// A marker on another subscription proves "b" had its chance.
	mustTok(t, sub.Subscribe("u/2", 0, in.v3handler))
	mustTok(t, pub.Publish("u/2", 0, false, []byte("c")))
	if got := payloads(in.wait(t, 2)); !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("got %v after unsubscribe", got)
	}
}

// TestPubSubTopicMapping: topics with levels a subject cannot hold are
// refused (v5: 0x90 in PUBACK; 3.1.1: the connection closes), filters
// likewise (0x8F / 0x80), and only that connection is affected.
func TestPubSubTopicMapping(t *testing.T) {
	e := startEnv(t, Options{})
	other := e.v3(t, "other", true)
	c, _ := e.v5(t, &paho.Connect{ClientID: "v5", CleanStart: true}, nil)
	ctx := testCtx(t)
	for _, tp := range []string{"a//b", "/a", "a/", "a.b", "a/*", "a/>", "a b", "$SYS/x"} {
		resp, err := c.Publish(ctx, &paho.Publish{Topic: tp, QoS: 1, Payload: []byte("x")})
		if err == nil && resp.ReasonCode != 0x90 {
			t.Errorf("publish %q: reason 0x%02x, want 0x90", tp, resp.ReasonCode)
		}
	}
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "a.b/#", QoS: 1}, {Topic: "a//+", QoS: 1}, {Topic: "ok/+", QoS: 1}}})
	if sa == nil {
		t.Fatal(err)
	}
	if !slices.Equal(sa.Reasons, []byte{0x8F, 0x8F, 1}) {
		t.Errorf("suback %x", sa.Reasons)
	}
	r := e.raw(t, 4)
	r.connect("v3bad", true, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "x.y", Qos: 1}))
	if pk := r.read(); pk.FixedHeader.Type != packets.Suback || !slices.Equal(pk.ReasonCodes, []byte{0x80}) {
		t.Errorf("3.1.1 suback %x", pk.ReasonCodes)
	}
	r.send(publishPk("a.b", 1, 1, "x"))
	r.expectClosed()
	mustTok(t, other.Publish("still/fine", 1, false, []byte("ok")))
}

func TestPubSubQoS2ExactlyOnce(t *testing.T) {
	e := startEnv(t, Options{})
	s, err := e.srv.Subscribe("once", server.Start{Kind: server.StartLatest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := e.raw(t, 4)
	r.connect("q2", true, 0)
	r.send(publishPk("once", 2, 7, "x"))
	if pk := r.read(); pk.FixedHeader.Type != packets.Pubrec || pk.PacketID != 7 {
		t.Fatalf("got %+v, want PUBREC 7", pk.FixedHeader)
	}
	dup := publishPk("once", 2, 7, "x")
	dup.FixedHeader.Dup = true
	r.send(dup) // the client did not see the PUBREC
	if pk := r.read(); pk.FixedHeader.Type != packets.Pubrec || pk.PacketID != 7 {
		t.Fatalf("got %+v, want PUBREC 7 again", pk.FixedHeader)
	}
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: 7})
	if pk := r.read(); pk.FixedHeader.Type != packets.Pubcomp || pk.PacketID != 7 {
		t.Fatalf("got %+v, want PUBCOMP 7", pk.FixedHeader)
	}
	r.send(publishPk("once", 2, 7, "y")) // the id is free again: a new message
	r.read()
	var got []string
	for len(got) < 2 {
		select {
		case m := <-s.Messages():
			got = append(got, string(m.Payload))
		case <-time.After(testTimeout):
			t.Fatalf("got %v", got)
		}
	}
	if !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("got %v, want [x y]", got)
	}
	select {
	case m := <-s.Messages():
		t.Fatalf("extra message %q", m.Payload)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestPubSubOutboundQoS2: the server's side of QoS 2 toward a subscriber.
func TestPubSubOutboundQoS2(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 4)
	r.connect("q2sub", true, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "o2", Qos: 2}))
	r.read()
	if _, err := e.srv.Publish(testCtx(t), &broker.Message{Subject: "o2", Payload: []byte("z")}, broker.Expect{}); err != nil {
		t.Fatal(err)
	}
	pk := r.read()
	if pk.FixedHeader.Type != packets.Publish || pk.FixedHeader.Qos != 2 || pk.PacketID == 0 {
		t.Fatalf("got %+v", pk.FixedHeader)
	}
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: pk.PacketID})
	if rel := r.read(); rel.FixedHeader.Type != packets.Pubrel || rel.PacketID != pk.PacketID {
		t.Fatalf("got %+v, want PUBREL", rel.FixedHeader)
	}
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: pk.PacketID})
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	if p := r.read(); p.FixedHeader.Type != packets.Pingresp {
		t.Fatal("no PINGRESP")
	}
}

// TestPubSubInflightBound: no more QoS 1 messages than the client's
// receive maximum are unacknowledged at once.
func TestPubSubInflightBound(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 5)
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "rm", Clean: true}
	pk.Properties.ReceiveMaximum = 2
	r.send(pk)
	r.read()
	r.send(subscribePk(1, packets.Subscription{Filter: "rm", Qos: 1}))
	r.read()
	for i := range 5 {
		if _, err := e.srv.Publish(testCtx(t), &broker.Message{Subject: "rm", Payload: []byte{'0' + byte(i)}}, broker.Expect{}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []uint16
	for range 2 {
		p := r.read()
		ids = append(ids, p.PacketID)
	}
	if _, err := r.next(100 * time.Millisecond); err == nil {
		t.Fatal("a third message came before any PUBACK")
	}
	r.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: ids[0]})
	if p := r.read(); string(p.Payload) != "2" {
		t.Fatalf("after one PUBACK got %q, want 2", p.Payload)
	}
}
