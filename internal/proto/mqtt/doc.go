// Package mqtt is Courier's MQTT 3.1.1 and 5.0 front-end: a listener that
// speaks MQTT over the broker core. Packets are encoded and decoded with
// mochi-mqtt's packets codec; everything else (sessions, QoS flows,
// retained messages, wills) is here, and what must last is kept in the
// broker.
//
// # Mapping
//
// A topic's levels are a subject's tokens: topic "a/b/c" is subject
// "a.b.c", and a subject comes back to MQTT subscribers as the topic
// with '.' turned into '/'. In filters '+' is '*' and a last '#' is '>';
// since MQTT's "a/#" also matches "a" itself, it subscribes both "a" and
// "a.>". A level that cannot be a subject token is refused rather than
// escaped, so that a topic reads the same in every protocol: empty
// levels (a leading, trailing or double '/'), levels holding '.', '*' or
// '>', white space and control characters, and topics past the subject
// limits (255 bytes, 32 levels). A refused publish gets reason 0x90
// (topic name invalid) in its v5 PUBACK or PUBREC, is dropped at QoS 0,
// and closes a 3.1.1 connection at QoS 1 and 2 (3.1.1 has no negative
// acknowledgement); a refused filter gets 0x8F in SUBACK (0x80 in
// 3.1.1). Clients may not publish to topics starting with '$', and
// filters starting with a wildcard do not match subjects starting with
// '$' [MQTT-4.7.2-1], which is where the front-end keeps its own streams.
//
// A message published over MQTT carries the v5 user properties as
// headers, as they are, and content-type and correlation-id (the
// correlation data), which every protocol sees; the response topic
// becomes the message's reply subject (mapped like a topic) and the
// message expiry interval its TTL. What only MQTT needs of the PUBLISH
// (its QoS, retain flag and payload format indicator, and the
// publisher's client id, for no local) goes in one header of the
// front-end's own, mqtt-meta, which the AMQP and STOMP front-ends and the
// native API do not show (Kafka consumers read stored records as they
// are and see it, as they see courier-subject). Messages stored before
// mqtt-meta keep their mqtt-qos, mqtt-retain, mqtt-client and
// mqtt-payload-format headers, which are still read. On the way out the
// mapping is reversed for v5 subscribers: headers become user properties
// (except courier- ones, the front-end's own and those that are not
// UTF-8), the reply subject becomes the response topic (so a v5 client
// answers a Courier Request by publishing to it), the TTL left becomes
// the message expiry interval, and expired messages are not sent. A
// message from another protocol counts as published at QoS 2: it is
// delivered at the subscription's QoS. User properties named courier-…
// are reserved to the broker: such a publish is refused (0x83), and so is
// a payload that its format indicator says is UTF-8 and is not (0x99).
//
// # Publishing
//
// PUBLISH goes to broker.PublishAsync. QoS 1 is answered with PUBACK
// and QoS 2 with PUBREC only once the message is durable in the stream
// that captures its subject (at once when no stream captures it), in
// order with the other packets of the connection; a refused publish gets
// its reason code in v5. QoS 2 is exactly-once at the front-end by
// packet id: a PUBLISH whose id was received and not yet released by
// PUBREL is answered again and not published twice. Those ids are kept
// in the session: they survive reconnects, and for a persistent session
// a restart too (they are saved with the session when its connection
// ends, so a crash loses them).
// Topic aliases from v5 clients are honoured (up to
// Options.TopicAliasMax); the server sends no aliases itself.
//
// # Subscribing and delivery
//
// A subscription is a broadcast broker.Subscribe from "latest" for each
// subject pattern of its filter. Messages go out at min(publish QoS,
// subscription QoS) with packet ids; the QoS 1 and 2 messages in flight
// are bounded by Options.MaxInflight and the client's receive maximum,
// and a delivery waits for room. Overlapping subscriptions each deliver
// their copy. A v5 subscription identifier is sent back with the
// messages of its subscription; no local, retain as published and
// retain handling are honoured.
//
// "$share/G/f" is a shared subscription: the client joins the `shared`
// group G (created with filter f, from latest, when missing) on every
// stream that captures a subject f matches, so each message goes to one
// member whatever protocol the others speak. When no stream captures f
// the subscription is refused (0x83 in v5, 0x80 in 3.1.1): messages no
// stream captures have no group to share. For "$share/G/a/#" the group's
// filter is "a.>", so it does not get "a" itself.
//
// # Sessions
//
// A client id has one session; a second connection with the same id
// takes it over (the first gets DISCONNECT 0x8E in v5 and is closed). A
// clean session (3.1.1 clean session, v5 session expiry 0) ends with its
// connection. A persistent one (3.1.1 without clean session: it never
// expires; v5 with a session expiry interval) keeps its subscriptions in
// the compacted stream Options.SessionsStream (subject "$mqtt.sessions",
// the client id as key, JSON), so it survives restarts, and ends when
// its expiry passes while disconnected (timers are rebuilt at start from
// the stored disconnection time), or on a clean start.
//
// A persistent session holds a durable group: for each pattern of each
// subscription, a `shared` group named mqtt-<hash of client id and
// pattern> on every stream the pattern overlaps, created from latest at
// subscribe time, joined while connected and left at disconnect. What
// the client has not acknowledged when it goes goes back to the group,
// and the next connection (after a restart too) gets it again, marked
// DUP, and what was published meanwhile. Packet ids are new ones, not
// those of the first attempt. A QoS 2 message whose PUBREC came is
// settled; its PUBREL is sent again on reconnect, with its packet id
// (saved like the received QoS 2 ids). For
// subjects that no stream captures nothing is kept: they are delivered
// live while the client is connected, as in core pub/sub. A stream
// created after the subscription gets its group at the next connection;
// until then its messages come live. The groups are deleted on
// unsubscribe and when the session ends.
//
// # Retained messages
//
// A retained publish is also stored in the compacted stream
// Options.RetainedStream (subject "$mqtt.retained", the topic as key, an
// empty payload deleting it), which is the record; an index by topic is
// rebuilt from it at start. A new subscription gets the matching
// retained messages with the retain flag (not a shared one). A retained
// message's expiry is kept in the mqtt-expires-at header. Serve fails if
// the internal streams cannot be created, for example when another
// stream already captures "$mqtt.retained" (one with a pattern starting
// "$mqtt"; a wildcard in a first token never matches a '$' subject, so a
// stream of everything, ">", does not).
//
// # Wills
//
// A will is published when a connection ends without DISCONNECT (or
// with a v5 reason other than 0x00, such as 0x04), after the v5 will delay or when the session
// ends if sooner; a new connection of the client within the delay
// cancels it. A will waiting for its delay is saved in its session's
// record, so a restarted server publishes it when due (and then drops it
// from the record). Close and Shutdown publish no wills (the server went
// away, not the client).
//
// # Connections and limits
//
// Each connection has one reader, one writer and one pump goroutine per
// subscription source. The reader bounds a packet's size
// (Options.MaxPacketBytes, advertised to v5 clients) from its fixed
// header before buffering it, then decodes and handles packets in
// order; a packet that is too large, malformed or against the protocol
// ends only its connection, with DISCONNECT and the reason code in v5 (a
// CONNACK before the connection is accepted) and by closing in 3.1.1. A
// panic closes only its connection. A v5 client gets a receive maximum
// of 256: past that many unacknowledged QoS 1 and 2 publishes it is
// disconnected with 0x93. The keep-alive is enforced at 1.5
// times the client's value; a connection must send CONNECT within
// Options.ConnectTimeout. Slow-consumer rule: the writer's queue is
// bounded, a write that makes no progress for Options.WriteTimeout
// closes the connection, and a live subscription that overflows (messages
// no stream captures, which never wait) closes it with 0x97.
//
// # Not supported
//
// Authentication beyond Options.Users (user name and password checked
// at CONNECT; without Users they are ignored; v5 enhanced
// authentication, AUTH, is refused with 0x8C) and authorization (ACLs); MQTT
// 3.1 (protocol level 3); server-sent topic aliases; server keep-alive
// and response information; the v5 request-problem-information flag
// only hides reason strings. QoS 2 ids and PUBRELs to resend are saved
// when a connection ends, so a crash (not a restart) loses them.
//
// # WebSocket
//
// WebSocketHandler serves MQTT over WebSocket (subprotocol "mqtt",
// binary messages) through coder/websocket's NetConn, with the same
// connection code as TCP. One difference: waking a WebSocket reader
// closes the WebSocket, so a client taken over or shut down over
// WebSocket sees the close without the v5 DISCONNECT reason.
package mqtt
