package mqtt

import (
	"testing"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TestMetaHeader: what the front-end keeps of a PUBLISH comes back from
// its one header, from the headers of messages stored before it, and a
// message from another protocol counts as QoS 2 from no MQTT client.
func TestMetaHeader(t *testing.T) {
	for _, pm := range []pubMeta{{}, {qos: 1, retain: true}, {qos: 2, utf8: true, client: "c-1"}, {qos: 1, client: "a\x00b"}} {
		m := &broker.Message{Headers: []broker.Header{{Key: "k", Value: []byte("v")}, pm.header()}}
		if got := publishedAs(m); got != pm {
			t.Errorf("%+v came back as %+v", pm, got)
		}
	}
	legacy := &broker.Message{Headers: []broker.Header{{Key: hdrLegacyQoS, Value: []byte("1")},
		{Key: hdrLegacyRetain, Value: []byte("1")}, {Key: hdrLegacyClient, Value: []byte("old")}, {Key: hdrLegacyPayloadFormat, Value: []byte("1")}}}
	if got, want := publishedAs(legacy), (pubMeta{qos: 1, retain: true, utf8: true, client: "old"}); got != want {
		t.Errorf("legacy headers: %+v, want %+v", got, want)
	}
	for _, hs := range [][]broker.Header{nil, {{Key: hdrMeta, Value: []byte("3")}}, {{Key: hdrMeta, Value: []byte("9xxclient")}}} {
		if got := publishedAs(&broker.Message{Headers: hs}); got != (pubMeta{qos: 2}) {
			t.Errorf("headers %v: %+v, want QoS 2 from no client", hs, got)
		}
	}
}

// TestMetaDelivered: a v5 subscriber with retain-as-published at QoS 2
// gets a retained QoS 1 UTF-8 publish at QoS 1, with the retain flag and
// the payload format indicator, and no user property for the
// front-end's header.
func TestMetaDelivered(t *testing.T) {
	e := startEnv(t, Options{})
	sub := e.raw(t, 5)
	sub.connect("sub", true, 0)
	sub.send(subscribePk(1, packets.Subscription{Filter: "md", Qos: 2, RetainAsPublished: true}))
	sub.read()
	pub := e.raw(t, 5)
	pub.connect("pub", true, 0)
	p := publishPk("md", 1, 1, "héllo")
	p.FixedHeader.Retain = true
	p.Properties.PayloadFormat, p.Properties.PayloadFormatFlag = 1, true
	p.Properties.User = []packets.UserProperty{{Key: "u", Val: "1"}}
	pub.send(p)
	if ack := pub.read(); ack.FixedHeader.Type != packets.Puback || ack.ReasonCode != 0 {
		t.Fatalf("got %s 0x%02x, want PUBACK", packets.PacketNames[ack.FixedHeader.Type], ack.ReasonCode)
	}
	got := sub.read()
	if got.FixedHeader.Type != packets.Publish || got.FixedHeader.Qos != 1 || !got.FixedHeader.Retain {
		t.Fatalf("got %s QoS %d retain %v, want PUBLISH QoS 1 retained", packets.PacketNames[got.FixedHeader.Type], got.FixedHeader.Qos, got.FixedHeader.Retain)
	}
	if !got.Properties.PayloadFormatFlag || got.Properties.PayloadFormat != 1 {
		t.Errorf("payload format indicator %v %d, want 1", got.Properties.PayloadFormatFlag, got.Properties.PayloadFormat)
	}
	if u := got.Properties.User; len(u) != 1 || u[0] != (packets.UserProperty{Key: "u", Val: "1"}) {
		t.Errorf("user properties %+v, want only u=1", u)
	}
}
