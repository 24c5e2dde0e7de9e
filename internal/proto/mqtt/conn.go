package mqtt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/courier-mq/courier/internal/netserve"
)

// outboundQueue bounds the packets queued for a connection's writer;
// when it is full the reader and the deliveries wait.
const outboundQueue = 256

// receiveMaximum is the receive maximum the server offers v5 clients.
const receiveMaximum = outboundQueue

// conn is one client connection. The reader parses and handles packets
// in order; the writer writes the queued packets in order (a PUBACK or
// PUBREC waits there until its publish is durable); one pump goroutine
// per subscription source turns broker messages into PUBLISH packets.
type conn struct {
	s   *Server
	nc  net.Conn
	br  *bufio.Reader
	out chan outFrame

	ctx    context.Context // ends when the connection closes
	cancel context.CancelFunc

	closeOnce  sync.Once
	writerDone chan struct{}
	ready      chan struct{} // closed once CONNACK is queued: pumps may send
	done       chan struct{} // closed once the connection is fully ended
	pumps      sync.WaitGroup

	shuttingDown atomic.Bool // the server is shutting down
	takenOver    atomic.Bool // another connection took the client id

	// Set by CONNECT, read-only afterwards.
	connected  bool
	version    byte // 4 (3.1.1) or 5
	clientID   string
	keepAlive  time.Duration
	maxOut     uint32 // the client's maximum packet size (0: none)
	noProblems bool   // the client asked for no reason strings or user properties in errors
	sess       *session
	will       *will

	// inPending counts the client's QoS 1 publishes not yet acknowledged
	// and QoS 2 ones not yet released, against receiveMaximum.
	inPending atomic.Int64

	// Reader only.
	aliases    map[uint16]string // inbound topic aliases
	normalExit bool              // the client sent DISCONNECT
	keepWill   bool              // ... with a v5 reason other than 0x00: publish the will anyway

	// Outbound flow (deliver.go).
	tokens chan struct{} // one per QoS 1/2 message in flight
	omu    sync.Mutex
	fly    map[uint16]*inflight
	nextID uint16
	subs   map[string]*activeSub // by filter, guarded by omu
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{
		s: s, nc: nc, br: bufio.NewReaderSize(nc, 4096),
		out:        make(chan outFrame, outboundQueue),
		writerDone: make(chan struct{}),
		ready:      make(chan struct{}),
		done:       make(chan struct{}),
		aliases:    map[uint16]string{},
		fly:        map[uint16]*inflight{},
		subs:       map[string]*activeSub{},
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	return c
}

// Drain and Abort are how the server stops c (netserve.Conn).
func (c *conn) Drain() { c.shutdown() }
func (c *conn) Abort() { c.close() }

// close closes the connection at once; queued packets are dropped.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.nc.Close()
	})
}

// shutdown asks a connection to end because the server shuts down: v5
// clients get DISCONNECT 0x8B first.
func (c *conn) shutdown() {
	c.shuttingDown.Store(true)
	c.nc.SetReadDeadline(time.Now())
}

// takeOver ends the connection because a new one took its client id
// (v5: DISCONNECT 0x8E) and waits until it has let go of the session.
func (c *conn) takeOver() {
	c.takenOver.Store(true)
	c.nc.SetReadDeadline(time.Now())
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C: // stuck writing to its client
		c.close()
		<-c.done
	}
}

// protoErr ends a connection with a reason code: v5 clients get it in a
// DISCONNECT (or a CONNACK before the connection is accepted), 3.1.1
// clients see the connection close.
type protoErr struct {
	code    packets.Code
	err     error
	version byte // of a CONNECT that failed to decode, when known
}

func (e *protoErr) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s (0x%02x): %v", e.code.Reason, e.code.Code, e.err)
	}
	return fmt.Sprintf("%s (0x%02x)", e.code.Reason, e.code.Code)
}

func failf(code packets.Code, format string, args ...any) error {
	return &protoErr{code: code, err: fmt.Errorf(format, args...)}
}

func (c *conn) readLoop() {
	defer c.end()
	defer func() {
		if r := recover(); r != nil {
			c.s.log.Error("mqtt: panic in connection, closing it", "remote", c.nc.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
			c.close()
		}
	}()
	for {
		pk, err := c.readPacket()
		if err == nil {
			err = c.handle(pk)
		}
		if err != nil {
			c.fail(err)
			return
		}
		if c.normalExit {
			return
		}
	}
}

// fail logs why the connection ends and queues the version's answer.
func (c *conn) fail(err error) {
	var pe *protoErr
	switch {
	case c.takenOver.Load():
		c.queueDisconnect(packets.ErrSessionTakenOver)
	case c.shuttingDown.Load():
		c.queueDisconnect(packets.ErrServerShuttingDown)
	case errors.As(err, &pe):
		c.s.log.Info("mqtt: closing connection", "remote", c.nc.RemoteAddr(), "client", c.clientID, "err", err)
		if c.connected {
			c.queueDisconnect(pe.code)
		} else if c.version == 5 || c.version == 0 && pe.version == 5 {
			c.version = 5
			c.queue(encodeConnack(c, pe.code, false))
		}
	case errors.Is(err, io.EOF), c.ctx.Err() != nil:
	default:
		c.s.log.Debug("mqtt: read", "remote", c.nc.RemoteAddr(), "client", c.clientID, "err", err)
	}
}

// end runs when the reader stops: the writer writes what is queued and
// closes the socket, the pumps stop, the session is let go of, and the
// will is published or scheduled.
func (c *conn) end() {
	select {
	case c.out <- outFrame{close: true}:
	case <-c.ctx.Done():
	}
	<-c.writerDone
	c.close()
	c.pumps.Wait()
	if c.connected {
		c.detach()
	}
	c.s.conns.Remove(c)
	close(c.done)
}

// readPacket reads one packet.
func (c *conn) readPacket() (*packets.Packet, error) {
	c.setReadDeadline()
	return readPacket(c.br, c.s.opts.MaxPacketBytes, c.version, c.connected)
}

// readPacket reads and decodes one packet. Its size is checked against
// max before anything is buffered [MQTT-3.2.2-15], and the buffer grows
// only as bytes arrive.
func readPacket(br *bufio.Reader, max int, version byte, connected bool) (*packets.Packet, error) {
	b0, err := br.ReadByte()
	if err != nil {
		return nil, err
	}
	var fh packets.FixedHeader
	if err := fh.Decode(b0); err != nil {
		return nil, fixedHeaderErr(err)
	}
	if !connected && fh.Type != packets.Connect { // [MQTT-3.1.0-1]: no need to read on
		return nil, failf(packets.ErrProtocolViolationRequireFirstConnect, "%s before CONNECT", packets.PacketNames[fh.Type])
	}
	n, bu, err := packets.DecodeLength(br)
	if err != nil {
		if errors.Is(err, packets.ErrMalformedVariableByteInteger) {
			return nil, &protoErr{code: packets.ErrMalformedPacket, err: err}
		}
		return nil, err
	}
	if total := 1 + bu + n; total > max {
		return nil, failf(packets.ErrPacketTooLarge, "packet of %d bytes, limit %d", total, max)
	}
	body, err := netserve.ReadGrowing(br, n, readStep)
	if err != nil {
		return nil, err
	}
	return decodePacket(fh, body, version)
}

// fixedHeaderErr classes a bad first byte: wrong flags and QoS 3 are
// malformed packets [MQTT-3.3.1-4], DUP at QoS 0 a protocol error.
func fixedHeaderErr(err error) error {
	code := codeOf(err, packets.ErrMalformedPacket)
	if code == packets.ErrProtocolViolationQosOutOfRange {
		code = packets.ErrMalformedQos
	}
	return &protoErr{code: code, err: err}
}

func (c *conn) setReadDeadline() {
	switch {
	case !c.connected:
		c.nc.SetReadDeadline(time.Now().Add(c.s.opts.ConnectTimeout))
	case c.keepAlive > 0:
		c.nc.SetReadDeadline(time.Now().Add(c.keepAlive * 3 / 2)) // [MQTT-3.1.2-24]
	default:
		c.nc.SetReadDeadline(time.Time{})
	}
	if c.shuttingDown.Load() || c.takenOver.Load() {
		c.nc.SetReadDeadline(time.Now())
	}
}

// handle serves one packet.
func (c *conn) handle(pk *packets.Packet) error {
	t := pk.FixedHeader.Type
	if !c.connected {
		if t != packets.Connect {
			return failf(packets.ErrProtocolViolationRequireFirstConnect, "%s before CONNECT", packets.PacketNames[t])
		}
		return c.handleConnect(pk)
	}
	switch t {
	case packets.Connect:
		return &protoErr{code: packets.ErrProtocolViolationSecondConnect} // [MQTT-3.1.0-2]
	case packets.Publish:
		return c.handlePublish(pk)
	case packets.Puback:
		c.onPuback(pk.PacketID)
	case packets.Pubrec:
		c.onPubrec(pk)
	case packets.Pubrel:
		c.handlePubrel(pk)
	case packets.Pubcomp:
		c.onPubcomp(pk.PacketID)
	case packets.Subscribe:
		return c.handleSubscribe(pk)
	case packets.Unsubscribe:
		return c.handleUnsubscribe(pk)
	case packets.Pingreq:
		c.queue(encode(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingresp}}))
	case packets.Disconnect:
		return c.handleDisconnect(pk)
	default:
		return failf(packets.ErrProtocolViolation, "unexpected %s packet", packets.PacketNames[t])
	}
	return nil
}

// queue queues a ready packet for the writer; it gives up (and reports
// false) when the connection ends.
func (c *conn) queue(b []byte) bool {
	select {
	case c.out <- outFrame{b: b}:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// queueAwait queues a packet that the writer writes once ready returns.
func (c *conn) queueAwait(ready func() ([]byte, error)) {
	select {
	case c.out <- outFrame{await: ready}:
	case <-c.ctx.Done():
	}
}

// queueDisconnect queues a v5 DISCONNECT with a reason code.
func (c *conn) queueDisconnect(code packets.Code) {
	if c.version != 5 || !c.connected {
		return
	}
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ProtocolVersion: 5, ReasonCode: code.Code}
	if code.Code >= 0x80 && !c.noProblems {
		pk.Properties.ReasonString = code.Reason
	}
	c.queue(encode(pk))
}

// readStep: a declared length is read in steps of at most this much.
const readStep = 64 << 10
