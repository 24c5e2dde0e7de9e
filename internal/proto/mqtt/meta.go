package mqtt

import "github.com/courier-mq/courier/internal/broker"

// hdrMeta is the one header the front-end adds to a message published
// over MQTT, for its own use when it delivers the message: the QoS and
// retain flag of the PUBLISH, the v5 payload format indicator and the
// publisher's client id (for no local). The value is three bytes, each
// '0' to '2' (QoS) or '0'/'1' (retain, UTF-8 payload), then the client
// id. The other front-ends and the native API do not show it: it is not
// the application's header. (Kafka consumers read the stored records as
// they are, courier-subject included, and see it.)
const hdrMeta = "mqtt-meta"

// Headers of messages stored before hdrMeta, still read so that those
// messages keep their QoS, retain flag and no local.
const (
	hdrLegacyQoS           = "mqtt-qos"
	hdrLegacyRetain        = "mqtt-retain"
	hdrLegacyClient        = "mqtt-client"
	hdrLegacyPayloadFormat = "mqtt-payload-format"
)

// pubMeta is what hdrMeta carries.
type pubMeta struct {
	qos    byte
	retain bool
	utf8   bool   // v5 payload format indicator 1: the payload is UTF-8
	client string // the publisher's client id
}

// header encodes pm as hdrMeta.
func (pm pubMeta) header() broker.Header {
	v := make([]byte, 0, 3+len(pm.client))
	v = append(v, '0'+pm.qos, flagByte(pm.retain), flagByte(pm.utf8))
	return broker.Header{Key: hdrMeta, Value: append(v, pm.client...)}
}

func flagByte(on bool) byte {
	if on {
		return '1'
	}
	return '0'
}

// metaOf returns how m was published over MQTT; ok is false for messages
// from other protocols.
func metaOf(m *broker.Message) (pm pubMeta, ok bool) {
	if v, found := m.Header(hdrMeta); found && len(v) >= 3 && v[0] >= '0' && v[0] <= '2' {
		return pubMeta{qos: v[0] - '0', retain: v[1] == '1', utf8: v[2] == '1', client: v[3:]}, true
	}
	return legacyMetaOf(m)
}

// legacyMetaOf reads the headers of messages stored before hdrMeta.
func legacyMetaOf(m *broker.Message) (pm pubMeta, ok bool) {
	v, found := m.Header(hdrLegacyQoS)
	if !found || len(v) != 1 || v[0] < '0' || v[0] > '2' {
		return pubMeta{}, false
	}
	pm.qos = v[0] - '0'
	r, _ := m.Header(hdrLegacyRetain)
	f, _ := m.Header(hdrLegacyPayloadFormat)
	pm.client, _ = m.Header(hdrLegacyClient)
	pm.retain, pm.utf8 = r == "1", f == "1"
	return pm, true
}

// frontEndHeader reports whether a header is the front-end's own, not
// to be turned into a v5 user property.
func frontEndHeader(k string) bool {
	switch k {
	case hdrMeta, hdrExpires, hdrLegacyQoS, hdrLegacyRetain, hdrLegacyClient, hdrLegacyPayloadFormat:
		return true
	}
	return false
}
