// Package wire carries Connect RPCs between a Courier client and server
// over Courier's own framing on one TCP connection: the "wire" transport.
//
// The native API speaks Connect, gRPC and HTTP/JSON over net/http, which
// suits every client and curl. Its HTTP/2 server and client hand each
// frame between goroutines several times (a reader, the connection's
// serve loop, the handler; the request body's copier and the response
// body's reader on the client), and on a small machine each hand-off
// waits for a core. Wire keeps the same services, messages, codecs,
// errors and handlers (a connect.Transport on the client, dispatch to
// the connect.Server on the server) and cuts the hand-offs to what a
// request needs: the caller writes its frame to the socket itself, the
// connection's reader hands each frame to its stream. The Go client
// uses it when the server offers it and HTTP/2 otherwise.
//
// Two more hand-offs can go, for streams that ask (inline.go,
// try_send.go): a stream's messages can be handled on the connection's
// reader itself (Inline on the server, WithInline on the client), and a
// server stream can be sent on by a goroutine that must not wait, with
// TrySend, which declines rather than wait for credit or the socket.
// The native API uses both for requests and replies, so a round trip
// wakes a goroutine on each side only where the application waits.
//
// # Connection
//
// The client connects and writes Preface; the server answers with the
// same bytes, then frames flow both ways. Preface starts with a zero
// byte, which no HTTP request or TLS handshake does, so one port serves
// both (internal/api tells them apart by the first byte). A server that
// answers anything else does not speak wire (ErrNotWire).
//
// # Frames
//
//	length  uint32  payload bytes
//	type    uint8
//	stream  uint32  0 for the connection
//	payload
//
// Streams are numbered by the client from 1, in the order their open
// frames go out (an id never comes back, and the server refuses one that
// does not grow). A stream is: open (the
// procedure, a timeout and request headers), messages both ways,
// close-send from the client; the server sends headers before its first
// message and ends the stream with end (a Connect code, 0 for success,
// a message, error details and trailers). A client that gives up sends
// cancel. Payload fields are unsigned varints and length-prefixed
// strings; payload.go lists them.
//
// # Limits and flow control
//
// Every frame is checked against a limit before its payload is read:
// MaxControlBytes for all but messages, a configured maximum for
// messages. A message over the maximum is skipped and fails its stream
// with resource_exhausted; anything else malformed ends the connection
// after a go-away that says what was wrong. Each side of a stream starts
// with a window of credit (streamWindow bytes) and sends a message while
// some is left (a message spends its size and its frame header's); the
// receiver returns credit with window frames as its reader takes
// messages, and credit beyond what was spent breaks the protocol. A
// connection has a window too, credited with window frames on stream 0,
// which bounds what all its streams together may have unread: a server
// takes serverConnWindow bytes from a client, a client clientConnWindow
// from the server (large, so that streams its application leaves unread
// do not stall the others). So a slow reader holds back only its own
// stream, and what a connection queues is bounded by its window and a
// message however many streams are open. A connection's reader never
// waits: on a stream, on credit, or on a write (the frames it sends are
// queued for the write under way or a goroutine of their own). Senders
// wait while maxPendingBytes are queued on a connection whose peer does
// not read. A server takes at most maxStreamsPerConn streams per
// connection.
//
// # Shutdown
//
// Server.Shutdown sends go-away (the client opens new streams on a new
// connection), waits for the calls in progress, then closes the
// connections; streams still open on a closed connection fail with
// unavailable, which the client retries.
package wire
