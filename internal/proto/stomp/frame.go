package stomp

import (
	"errors"
	"fmt"
)

// Frame is one STOMP frame: a command, ordered headers (a name may
// repeat; the first one counts) and a body.
type Frame struct {
	Command string
	Headers []Header
	Body    []byte
}

// Header is one frame header, unescaped.
type Header struct{ Key, Value string }

// Get returns the value of the first header named k (spec: "Repeated
// Header Entries", only the first is used).
func (f *Frame) Get(k string) (string, bool) {
	for _, h := range f.Headers {
		if h.Key == k {
			return h.Value, true
		}
	}
	return "", false
}

// Value returns the first header named k, or "".
func (f *Frame) Value(k string) string {
	v, _ := f.Get(k)
	return v
}

// Client and server commands.
const (
	cmdConnect     = "CONNECT"
	cmdStomp       = "STOMP"
	cmdConnected   = "CONNECTED"
	cmdSend        = "SEND"
	cmdSubscribe   = "SUBSCRIBE"
	cmdUnsubscribe = "UNSUBSCRIBE"
	cmdAck         = "ACK"
	cmdNack        = "NACK"
	cmdBegin       = "BEGIN"
	cmdCommit      = "COMMIT"
	cmdAbort       = "ABORT"
	cmdDisconnect  = "DISCONNECT"
	cmdMessage     = "MESSAGE"
	cmdReceipt     = "RECEIPT"
	cmdError       = "ERROR"
)

// Header names the protocol itself uses.
const (
	hdrContentLength = "content-length"
	hdrContentType   = "content-type"
	hdrDestination   = "destination"
	hdrReceipt       = "receipt"
	hdrReceiptID     = "receipt-id"
	hdrTransaction   = "transaction"
	hdrID            = "id"
	hdrAck           = "ack"
	hdrSubscription  = "subscription"
	hdrMessageID     = "message-id"
	hdrMessage       = "message"
	hdrVersion       = "version"
	hdrAcceptVersion = "accept-version"
	hdrHeartBeat     = "heart-beat"
	hdrServer        = "server"
	hdrSession       = "session"
	hdrReplyTo       = "reply-to"
	hdrRedelivered   = "redelivered"
	hdrPrefetch      = "prefetch-count"
	hdrExpiration    = "expiration" // RabbitMQ's per-message TTL, in ms
)

// escaping is how a frame's header names and values are escaped, which
// depends on the negotiated version (spec "Value Encoding"): none in
// CONNECT and CONNECTED frames and in STOMP 1.0, \n \c \\ in 1.1, and
// \r as well in 1.2.
type escaping int

const (
	escNone escaping = iota
	esc11
	esc12
)

// ProtocolError is bad input from a client: it is answered with an
// ERROR frame whose message header is Msg, and the connection closes.
type ProtocolError struct {
	Msg    string // short, for the message header
	Detail string // longer, for the ERROR frame's body
	// Version, when set, is the ERROR's version header: the versions
	// the server supports, after a failed negotiation.
	Version string
}

func (e *ProtocolError) Error() string {
	if e.Detail == "" {
		return e.Msg
	}
	return e.Msg + ": " + e.Detail
}

func protoErr(msg, format string, args ...any) *ProtocolError {
	return &ProtocolError{Msg: msg, Detail: fmt.Sprintf(format, args...)}
}

func isProtoErr(err error) (*ProtocolError, bool) {
	var pe *ProtocolError
	ok := errors.As(err, &pe)
	return pe, ok
}
