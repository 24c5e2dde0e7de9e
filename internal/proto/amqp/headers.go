package amqp

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// Properties travel in message headers, so that an AMQP consumer sees what
// an AMQP publisher set and other protocols see them as plain headers:
//
//	content-type, content-encoding, correlation-id   the same names
//	reply-to                                         Message.ReplyTo
//	message-id                                       Message.ID (de-duplication)
//	expiration (ms)                                  Message.TTL
//	delivery-mode, priority, timestamp, type,        amqp-delivery-mode, amqp-priority,
//	user-id, app-id, cluster-id                      amqp-timestamp, amqp-type, amqp-user-id,
//	                                                 amqp-app-id, amqp-cluster-id
//	headers table                                    one header per entry (values as text),
//	                                                 plus amqp-headers (the table, base64)
//	                                                 when an entry is not a string
const (
	hdrContentType     = "content-type"
	hdrContentEncoding = "content-encoding"
	hdrCorrelationID   = "correlation-id"
	hdrDeliveryMode    = "amqp-delivery-mode"
	hdrPriority        = "amqp-priority"
	hdrTimestamp       = "amqp-timestamp"
	hdrType            = "amqp-type"
	hdrUserID          = "amqp-user-id"
	hdrAppID           = "amqp-app-id"
	hdrClusterID       = "amqp-cluster-id"
	hdrTable           = "amqp-headers"
	// hdrMQTTMeta is the MQTT front-end's own header (the publish's QoS,
	// retain flag and client id), not the application's: not shown.
	hdrMQTTMeta = "mqtt-meta"
)

// toMessage builds the broker message of a publish.
func (ch *channel) toMessage(subj string, p *Properties, body []byte) (*broker.Message, error) {
	m := &broker.Message{Subject: subj, Payload: body}
	add := func(flag uint16, k, v string) {
		if p.Flags&flag != 0 {
			m.Headers = append(m.Headers, broker.Header{Key: k, Value: []byte(v)})
		}
	}
	add(flagContentType, hdrContentType, p.ContentType)
	add(flagContentEncoding, hdrContentEncoding, p.ContentEncoding)
	add(flagCorrelationID, hdrCorrelationID, p.CorrelationID)
	add(flagDeliveryMode, hdrDeliveryMode, strconv.Itoa(int(p.DeliveryMode)))
	add(flagPriority, hdrPriority, strconv.Itoa(int(p.Priority)))
	add(flagTimestamp, hdrTimestamp, strconv.FormatUint(p.Timestamp, 10))
	add(flagType, hdrType, p.Type)
	add(flagUserID, hdrUserID, p.UserID)
	add(flagAppID, hdrAppID, p.AppID)
	add(flagClusterID, hdrClusterID, p.ClusterID)
	if p.Flags&flagUserID != 0 && ch.c.s.opts.Users != nil && p.UserID != ch.c.user {
		return nil, newErr(codePreconditionFailed, "user_id property set to '%s' but authenticated user was '%s'", p.UserID, ch.c.user)
	}
	if p.Flags&flagReplyTo != 0 {
		m.ReplyTo = p.ReplyTo
	}
	if p.Flags&flagMessageID != 0 {
		m.ID = p.MessageID
	}
	if p.Flags&flagExpiration != 0 {
		ms, err := strconv.ParseUint(p.Expiration, 10, 32)
		if err != nil {
			return nil, newErr(codePreconditionFailed, "invalid expiration '%s': milliseconds expected", p.Expiration)
		}
		m.TTL = max(msDuration(int64(ms)), time.Millisecond) // 0 expires at once in RabbitMQ; the broker's 0 means none
	}
	if p.Flags&flagHeaders != 0 && len(p.Headers) > 0 {
		typed := false
		for _, k := range sortedKeys(p.Headers) {
			v := p.Headers[k]
			s, ok := v.(string)
			if !ok {
				typed = true
				s = fmt.Sprint(v)
			}
			m.Headers = append(m.Headers, broker.Header{Key: k, Value: []byte(s)})
		}
		if typed {
			w := writer{}
			w.table(p.Headers)
			m.Headers = append(m.Headers, broker.Header{Key: hdrTable, Value: []byte(base64.StdEncoding.EncodeToString(w.b[4:]))})
		}
	}
	// The broker's own headers (a dead letter's courier-dlq-*, say) are
	// dropped: a consumer republishing a message it got may carry them.
	m.Headers = slices.DeleteFunc(m.Headers, func(h broker.Header) bool { return strings.HasPrefix(h.Key, broker.HeaderPrefix) })
	return m, nil
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// fromMessage returns the properties of a delivered message.
func fromMessage(m *broker.Message) Properties {
	var p Properties
	var table Table
	for _, h := range m.Headers {
		if h.Key == hdrTable {
			raw, err := base64.StdEncoding.DecodeString(string(h.Value))
			if err == nil {
				w := writer{}
				w.longstr(string(raw))
				r := reader{b: w.b}
				if t := r.table(); r.err == nil {
					table = t
				}
			}
		}
	}
	plain := Table{}
	for _, h := range m.Headers {
		v := string(h.Value)
		switch h.Key {
		case hdrContentType:
			p.Flags, p.ContentType = p.Flags|flagContentType, v
		case hdrContentEncoding:
			p.Flags, p.ContentEncoding = p.Flags|flagContentEncoding, v
		case hdrCorrelationID:
			p.Flags, p.CorrelationID = p.Flags|flagCorrelationID, v
		case hdrDeliveryMode:
			n, _ := strconv.ParseUint(v, 10, 8)
			p.Flags, p.DeliveryMode = p.Flags|flagDeliveryMode, uint8(n)
		case hdrPriority:
			n, _ := strconv.ParseUint(v, 10, 8)
			p.Flags, p.Priority = p.Flags|flagPriority, uint8(n)
		case hdrTimestamp:
			n, _ := strconv.ParseUint(v, 10, 64)
			p.Flags, p.Timestamp = p.Flags|flagTimestamp, n
		case hdrType:
			p.Flags, p.Type = p.Flags|flagType, v
		case hdrUserID:
			p.Flags, p.UserID = p.Flags|flagUserID, v
		case hdrAppID:
			p.Flags, p.AppID = p.Flags|flagAppID, v
		case hdrClusterID:
			p.Flags, p.ClusterID = p.Flags|flagClusterID, v
		case hdrTable, hdrVia, hdrMQTTMeta:
		default:
			if _, dup := plain[h.Key]; !dup {
				plain[h.Key] = v
			}
		}
	}
	if table == nil && len(plain) > 0 {
		table = plain
	}
	if table != nil {
		p.Flags, p.Headers = p.Flags|flagHeaders, table
	}
	if m.ReplyTo != "" {
		p.Flags, p.ReplyTo = p.Flags|flagReplyTo, m.ReplyTo
	}
	if m.ID != "" {
		p.Flags, p.MessageID = p.Flags|flagMessageID, m.ID
	}
	if m.TTL > 0 {
		p.Flags, p.Expiration = p.Flags|flagExpiration, strconv.FormatInt(m.TTL.Milliseconds(), 10)
	}
	return p
}

// origin returns the exchange and routing key a delivered message is
// reported with.
func (s *Server) origin(m *broker.Message) (string, string) {
	if ex := s.exchangeOfStream(m.Stream); ex != nil {
		if m.Subject == ex.prefix {
			return ex.name, ""
		}
		if k, ok := strings.CutPrefix(m.Subject, ex.prefix+"."); ok {
			return ex.name, k
		}
	}
	if m.Stream == "" || m.Subject == m.Stream {
		return "", m.Subject
	}
	return amqTopic.name, m.Subject
}

// exchangeOfStream returns the exchange kept in a stream, if known.
func (s *Server) exchangeOfStream(st string) *exchange {
	for _, ex := range builtins {
		if ex.stream == st {
			return ex
		}
	}
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	return s.reg.exchanges[st]
}
