// Package stomp is Courier's STOMP front-end: a listener that speaks
// STOMP 1.0, 1.1 and 1.2 over the broker core, as a RabbitMQ-STOMP or
// ActiveMQ user expects.
//
// # Codec
//
// The frame codec is our own (reader.go, writer.go): every limit is
// checked before the bytes it guards are buffered (Options.MaxLineBytes
// per command or header line, MaxHeaders and MaxHeaderBytes per frame,
// MaxBodyBytes per body, whether content-length gives the size or a NUL
// ends the body). It reads LF and CRLF, skips heart-beat EOLs between
// frames, and decodes the escapes of the negotiated version (\n \c \\,
// and \r in 1.2; none in 1.0 and never in CONNECT or CONNECTED); an
// undefined escape is an error. The writer always sets content-length.
//
// # Sessions
//
// CONNECT (or STOMP) negotiates the highest common version of
// accept-version (none given means 1.0); a client offering none of 1.0,
// 1.1, 1.2 gets an ERROR whose version header lists them. Heart-beats
// are negotiated both ways (spec "Heart-beating"): the server offers
// Options.HeartBeat, sends an EOL whenever it has written nothing for
// the negotiated interval, and drops a client from which nothing (not
// even an EOL) arrived for twice its interval. CONNECTED carries
// version, heart-beat, server and session. With Options.Users set,
// CONNECT must carry a known login and its passcode, else an ERROR
// (access refused) ends the connection. Any frame may ask for a
// receipt. Bad input, of any kind, gets an ERROR frame (a message
// header, the receipt-id of the offending frame when it had a receipt,
// a text body saying why) and the connection closes; only that
// connection is affected, and a panic closes only its connection.
//
// # Destinations
//
//   - /topic/x publishes to the subject x; SUBSCRIBE is a live broadcast
//     subscription (broker.Subscribe from the latest position) to x,
//     which may be a pattern: '*' is one token, and a last token '#'
//     (RabbitMQ's) or '>' is one or more.
//   - /exchange/X/K is the subject X.K (K for X = amq.topic, as in
//     AMQP); for SUBSCRIBE K may be a pattern, and /exchange/X alone
//     subscribes to X.>.
//   - /queue/q is the queue q: the shared group q on the stream q, which
//     captures exactly the subject q. The AMQP front-end follows the same
//     convention. SEND publishes the subject q. On a connection's first
//     use of q (SEND or SUBSCRIBE), a missing stream q is created
//     (subjects [q], one partition, other settings default) and so is a
//     missing group q on it (shared, from the earliest message, no
//     filter, a 30-minute ack wait as AMQP queues have). q must be a
//     valid stream name ([A-Za-z0-9_-]{1,128}).
//     SUBSCRIBE joins group q on stream q and on every other stream that
//     has a group named q at that moment (AMQP bindings put them on
//     exchange streams), merging their deliveries.
//   - any other destination is a subject: a leading '/' is dropped and
//     '/' separates tokens as '.' does, so /a/b, a/b and a.b are all the
//     subject a.b (delivered as /topic/a.b).
//
// /temp-queue/, /reply-queue/ and /amq/queue/ are refused with an
// ERROR.
//
// # Messages
//
// A SEND's headers become the message's headers, in order, except
// STOMP's own (content-length, destination, receipt, transaction);
// content-type is kept as a header. reply-to is a destination and
// becomes the message's reply subject; expiration (RabbitMQ's, in
// milliseconds) is the message's TTL; courier-msg-id (de-duplication),
// courier-ttl and courier-deliver-at (milliseconds) set the message's
// fields, as they do over Kafka. A MESSAGE carries destination
// (/queue/q for a queue, /exchange/X/... for an exchange subscription,
// else /topic/ and the subject, whatever protocol published it),
// message-id, subscription, ack (client modes), redelivered:true on a
// redelivery, reply-to (/topic/ and the reply subject) and the message's
// headers, except those that would clash with these. Headers that the
// connection's version cannot carry (a newline in STOMP 1.0) are left
// out.
//
// # Acknowledgement
//
// ack:auto settles a queue message once its frame is written to the
// socket; ack:client and ack:client-individual wait for ACK (settled)
// or NACK (delivered again, after the group's backoff). In client mode
// an ACK or NACK covers every earlier unsettled message of the
// subscription (spec "SUBSCRIBE ack Header"). An ACK of an id the
// connection does not hold unsettled (a topic message, one settled
// already or taken back after the group's ack wait) is ignored. The
// prefetch-count header (or activemq.prefetchSize) bounds a queue
// subscription's unsettled messages per stream it reads, default
// Options.DefaultPrefetch; 0 means the group's limit. UNSUBSCRIBE and
// the end of a connection give unsettled messages back to the queue at
// once. Topic subscriptions accept ACK and NACK but need neither.
//
// # Publishing and receipts
//
// A SEND is published in the connection's order without waiting
// (broker.PublishAsync), so SENDs in flight share fsyncs. A RECEIPT,
// for any frame, is written only once every SEND before it is durable;
// a publish that fails (at once or on its write) ends the connection
// with an ERROR, so no message is lost silently. At most
// Options.MaxPendingPublishes publishes await durability per
// connection; the reader waits beyond that.
//
// # Transactions
//
// BEGIN opens a transaction; SENDs, ACKs and NACKs that name it are held
// (at most Options.MaxTransactionBytes per connection, and
// Options.MaxTransactions open at once) until COMMIT publishes and
// applies them in order, or ABORT or DISCONNECT drops them. A COMMIT's
// receipt follows its publishes' durability. A COMMIT is not atomic: a
// publish failing midway ends the connection after the earlier ones
// were stored.
//
// # Slow consumers
//
// Each connection has one reader, one writer, a confirmer (publishes'
// durability, then receipts) and a pump goroutine per subscription (per
// stream it reads, for a queue). Frames wait in a queue of
// Options.WriteQueueBytes (the writer takes it all at once, so up to
// about twice that is buffered); pumps wait while it is full. A queue
// subscription then stops taking deliveries (its prefetch is the
// bound); a topic subscription on subjects a stream captures reads at
// the consumer's pace; a live topic subscription on subjects no stream
// captures ends, when its broker buffer overflows, the connection with
// an ERROR (slow consumer). A write that does not finish within
// Options.WriteTimeout closes the connection.
//
// # WebSocket
//
// Server.WebSocket is an http.Handler for STOMP over WebSocket
// (subprotocols v12.stomp, v11.stomp, v10.stomp), the transport of
// stomp.js and RabbitMQ Web-STOMP: the same sessions over
// websocket.NetConn, text messages only (see websocket.go).
//
// # Not supported
//
// TLS (so passcodes cross the network in the clear), virtual hosts (the
// host header is ignored), durable topic subscriptions (use a queue),
// selectors, temporary and reply queues, and binary WebSocket messages.
// A queue subscription does not pick up groups named q created on other
// streams after it started. message-id names one delivery (it is also
// the ack id), so a redelivered message has a new one. An auto-ack
// message written just as its subscription ends may be acked too late
// and delivered again (at least once). Shutdown does not wait for
// clients to ack what they were sent: unacked queue messages go back to
// the queue.
package stomp
