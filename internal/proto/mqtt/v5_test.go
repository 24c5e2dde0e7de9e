package mqtt

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TestV5Properties: user properties, content type, correlation data,
// response topic and message expiry cross to the core as headers, reply
// subject and TTL, and back to a v5 subscriber.
func TestV5Properties(t *testing.T) {
	e := startEnv(t, Options{})
	createStream(t, e, "props", "props")
	in := newInbox()
	sub, _ := e.v5(t, &paho.Connect{ClientID: "sub", CleanStart: true}, in)
	id := 7
	if _, err := sub.Subscribe(testCtx(t), &paho.Subscribe{Properties: &paho.SubscribeProperties{SubscriptionIdentifier: &id},
		Subscriptions: []paho.SubscribeOptions{{Topic: "props", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	pub, _ := e.v5(t, &paho.Connect{ClientID: "pub", CleanStart: true}, nil)
	exp := uint32(60)
	p := &paho.Publish{Topic: "props", QoS: 1, Payload: []byte("{}"), Properties: &paho.PublishProperties{
		ContentType: "application/json", CorrelationData: []byte{1, 2, 3}, ResponseTopic: "replies/me", MessageExpiry: &exp,
		User: paho.UserProperties{{Key: "k", Value: "v"}, {Key: "k", Value: "w"}}}}
	if resp, err := pub.Publish(testCtx(t), p); err != nil || resp.ReasonCode != 0 {
		t.Fatalf("publish: %v %+v", err, resp)
	}
	ms, _, err := e.srv.ReadMessages("props", 0, 0, 1)
	if err != nil || len(ms) != 1 {
		t.Fatalf("stored: %v %d", err, len(ms))
	}
	m := ms[0]
	if m.ReplyTo != "replies.me" || m.TTL != time.Minute {
		t.Errorf("reply %q TTL %v", m.ReplyTo, m.TTL)
	}
	for k, want := range map[string]string{"content-type": "application/json", "correlation-id": "\x01\x02\x03", "k": "v"} {
		if v, _ := m.Header(k); v != want {
			t.Errorf("header %s = %q, want %q", k, v, want)
		}
	}
	got := in.wait(t, 1)[0].v5
	gp := got.Properties
	if gp.ContentType != "application/json" || string(gp.CorrelationData) != "\x01\x02\x03" || gp.ResponseTopic != "replies/me" {
		t.Errorf("properties %+v", gp)
	}
	if gp.MessageExpiry == nil || *gp.MessageExpiry == 0 || *gp.MessageExpiry > 60 {
		t.Errorf("message expiry %v", gp.MessageExpiry)
	}
	if gp.SubscriptionIdentifier == nil || *gp.SubscriptionIdentifier != 7 {
		t.Errorf("subscription identifier %v", gp.SubscriptionIdentifier)
	}
	if !slices.Equal(gp.User, paho.UserProperties{{Key: "k", Value: "v"}, {Key: "k", Value: "w"}}) {
		t.Errorf("user properties %+v", gp.User)
	}
}

// TestV5RequestReply: a Courier Request answered by a v5 client through
// the response topic and correlation data.
func TestV5RequestReply(t *testing.T) {
	e := startEnv(t, Options{})
	var responder *paho.Client
	responder, _ = e.v5(t, &paho.Connect{ClientID: "svc", CleanStart: true}, nil)
	responder.AddOnPublishReceived(func(pr paho.PublishReceived) (bool, error) {
		p := pr.Packet
		go responder.Publish(context.Background(), &paho.Publish{Topic: p.Properties.ResponseTopic, QoS: 0, Payload: append([]byte("re:"), p.Payload...),
			Properties: &paho.PublishProperties{CorrelationData: p.Properties.CorrelationData}})
		return true, nil
	})
	if _, err := responder.Subscribe(testCtx(t), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "svc/echo", QoS: 0}}}); err != nil {
		t.Fatal(err)
	}
	req := &broker.Message{Subject: "svc.echo", Payload: []byte("hi"), Headers: []broker.Header{{Key: "correlation-id", Value: []byte("c1")}}}
	reply, err := e.srv.Request(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if string(reply.Payload) != "re:hi" {
		t.Fatalf("reply %q", reply.Payload)
	}
	if v, _ := reply.Header("correlation-id"); v != "c1" {
		t.Fatalf("correlation %q", v)
	}
}

// TestV5TopicAlias: a topic alias set once stands for its topic; an alias
// past the maximum ends the connection with 0x94.
func TestV5TopicAlias(t *testing.T) {
	e := startEnv(t, Options{TopicAliasMax: 2})
	s, err := e.srv.Subscribe("al.>", broker.Start{Kind: broker.StartLatest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := e.raw(t, 5)
	r.connect("alias", true, 0)
	p1 := publishPk("al/one", 1, 1, "a")
	p1.Properties.TopicAlias, p1.Properties.TopicAliasFlag = 1, true
	r.send(p1)
	r.read()
	p2 := publishPk("", 1, 2, "b")
	p2.Properties.TopicAlias, p2.Properties.TopicAliasFlag = 1, true
	r.send(p2)
	if ack := r.read(); ack.ReasonCode != 0 {
		t.Fatalf("puback 0x%02x", ack.ReasonCode)
	}
	for _, want := range []string{"a", "b"} {
		select {
		case m := <-s.Messages():
			if m.Subject != "al.one" || string(m.Payload) != want {
				t.Fatalf("got %s %q", m.Subject, m.Payload)
			}
		case <-time.After(testTimeout):
			t.Fatal("nothing")
		}
	}
	p3 := publishPk("al/x", 0, 0, "c")
	p3.Properties.TopicAlias, p3.Properties.TopicAliasFlag = 3, true
	r.send(p3)
	if got := r.expectClosed(); len(got) != 1 || got[0].ReasonCode != 0x94 {
		t.Fatalf("got %+v, want DISCONNECT 0x94", got)
	}
}

// TestV5NoLocal: a no-local subscription does not get its own client's
// messages.
func TestV5NoLocal(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 5)
	r.connect("me", true, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "nl", Qos: 0, NoLocal: true}))
	r.read()
	r.send(publishPk("nl", 0, 0, "mine"))
	pub := e.v3(t, "other", true)
	mustTok(t, pub.Publish("nl", 0, false, []byte("theirs")))
	if pk := r.read(); string(pk.Payload) != "theirs" {
		t.Fatalf("got %q, want only the other client's", pk.Payload)
	}
}

// TestV5PayloadFormatAndReservedHeaders: a payload that is not UTF-8 while
// its format indicator says so gets 0x99; a user property in the
// courier- namespace gets 0x83.
func TestV5PayloadFormat(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 5)
	r.connect("pf", true, 0)
	p := publishPk("pf", 1, 1, "\xff\xfe")
	p.Properties.PayloadFormat, p.Properties.PayloadFormatFlag = 1, true
	r.send(p)
	if ack := r.read(); ack.FixedHeader.Type != packets.Puback || ack.ReasonCode != 0x99 {
		t.Fatalf("got %s 0x%02x, want PUBACK 0x99", packets.PacketNames[ack.FixedHeader.Type], ack.ReasonCode)
	}
	p = publishPk("pf", 2, 2, "x")
	p.Properties.User = []packets.UserProperty{{Key: "courier-subject", Val: "x"}}
	r.send(p)
	if ack := r.read(); ack.FixedHeader.Type != packets.Pubrec || ack.ReasonCode != 0x83 {
		t.Fatalf("got %s 0x%02x, want PUBREC 0x83", packets.PacketNames[ack.FixedHeader.Type], ack.ReasonCode)
	}
}
