package amqp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// A passive declare of a missing queue closes only that channel with
// 404; the connection and its other channels carry on.
func TestAMQPPassiveDeclareMissing(t *testing.T) {
	e := startEnv(t, Options{})
	conn := e.dial(t)
	other, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.QueueDeclarePassive("missing", true, false, false, false, nil)
	if code(err) != amqp091.NotFound {
		t.Fatalf("passive declare: %v, want 404", err)
	}
	if conn.IsClosed() {
		t.Fatal("the connection closed")
	}
	declareQueue(t, other, "q")
	publish(t, other, "", "q", "still")
	if d := recv(t, consume(t, other, "q", true)); string(d.Body) != "still" {
		t.Fatalf("got %q", d.Body)
	}
}

// Names that are not stream names are refused with 406 and a reason;
// exclusive queues are locked to their connection and go with it.
func TestAMQPQueueNamesAndExclusive(t *testing.T) {
	e := startEnv(t, Options{})
	_, err := e.channel(t).QueueDeclare("a.b", true, false, false, false, nil)
	if code(err) != amqp091.PreconditionFailed {
		t.Fatalf("declare a.b: %v, want 406", err)
	}
	q, err := e.channel(t).QueueDeclare("", false, false, true, false, nil)
	if err != nil || len(q.Name) < 9 || q.Name[:8] != "amq-gen-" {
		t.Fatalf("server-named queue %q: %v", q.Name, err)
	}
	owner := e.dial(t)
	och, err := owner.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := och.QueueDeclare("mine", false, false, true, false, nil); err != nil {
		t.Fatal(err)
	}
	_, err = e.channel(t).Consume("mine", "", true, false, false, false, nil)
	if code(err) != amqp091.ResourceLocked {
		t.Fatalf("consume another's exclusive queue: %v, want 405", err)
	}
	owner.Close()
	waitFor(t, "exclusive queue deleted", func() bool { _, err := e.srv.GroupInfo("mine", "mine"); return err != nil })
}

// waitFor polls cond until it holds, for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawConn is a hand-driven client for malformed input.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	fr frameReader
}

func dialRaw(t *testing.T, e *testEnv) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, nc: nc, fr: frameReader{r: bufio.NewReader(nc), max: 1 << 20}}
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// method reads frames until a method, skipping heartbeats.
func (r *rawConn) method() method {
	r.t.Helper()
	for {
		f, err := r.fr.read()
		if err != nil {
			r.t.Fatalf("read: %v", err)
		}
		if f.typ == frameHeartbeat {
			continue
		}
		m, err := decodeMethod(f.payload)
		if err != nil {
			r.t.Fatalf("decode: %v", err)
		}
		return m
	}
}

// open runs the handshake with the given heartbeat (seconds).
func (r *rawConn) open(heartbeat uint16) {
	r.t.Helper()
	r.write(protocolHeader)
	if _, ok := r.method().(*connectionStart); !ok {
		r.t.Fatal("no connection.start")
	}
	r.write(appendMethod(nil, 0, &connectionStartOk{Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US"}))
	tune, ok := r.method().(*connectionTune)
	if !ok {
		r.t.Fatal("no connection.tune")
	}
	r.write(appendMethod(nil, 0, &connectionTuneOk{ChannelMax: tune.ChannelMax, FrameMax: tune.FrameMax, Heartbeat: heartbeat}))
	r.write(appendMethod(nil, 0, &connectionOpen{VirtualHost: "/"}))
	if _, ok := r.method().(*connectionOpenOk); !ok {
		r.t.Fatal("no connection.open-ok")
	}
}

// expectClose reads until connection.close and checks its code.
func (r *rawConn) expectClose(code uint16) {
	r.t.Helper()
	m := r.method()
	cl, ok := m.(*connectionClose)
	if !ok {
		r.t.Fatalf("got %s, want connection.close", m.Name())
	}
	if cl.ReplyCode != code {
		r.t.Fatalf("connection.close %d %q, want %d", cl.ReplyCode, cl.ReplyText, code)
	}
	r.write(appendMethod(nil, 0, &connectionCloseOk{}))
}

// A wrong protocol header is answered with AMQP 0-9-1's, then closed.
func TestAMQPRawBadHeader(t *testing.T) {
	e := startEnv(t, Options{})
	r := dialRaw(t, e)
	r.write([]byte("AMQP\x01\x01\x00\x0a"))
	got, _ := io.ReadAll(r.nc)
	if !bytes.Equal(got, protocolHeader) {
		t.Fatalf("got %q, want the 0-9-1 header", got)
	}
}

// An oversized frame and malformed frames close their connection with the
// right code; other connections carry on.
func TestAMQPRawMalformed(t *testing.T) {
	e := startEnv(t, Options{FrameMax: 8192})
	good := e.channel(t)
	declareQueue(t, good, "q")
	cases := []struct {
		name  string
		frame []byte
		code  uint16
	}{
		{"oversized", rawFrame(frameMethod, 1, make([]byte, 10000)), codeFrameError},
		{"bad frame end", append(rawFrame(frameMethod, 0, []byte{0, 10, 0, 50})[:11], 0x00), codeFrameError},
		{"unknown frame type", rawFrame(9, 0, nil), codeFrameError},
		{"unknown method", rawFrame(frameMethod, 0, []byte{0, 99, 0, 1}), codeCommandInvalid},
		{"truncated arguments", rawFrame(frameMethod, 1, []byte{0, 50, 0, 10, 0}), codeSyntaxError},
		{"channel not open", appendMethod(nil, 7, &queueDeclare{Queue: "x"}), codeChannelError},
		{"body without publish", rawFrame(frameBody, 1, []byte("x")), codeUnexpectedFrame},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := dialRaw(t, e)
			r.open(0)
			r.write(appendMethod(nil, 1, &channelOpen{}))
			if _, ok := r.method().(*channelOpenOk); !ok {
				t.Fatal("no channel.open-ok")
			}
			r.write(c.frame)
			r.expectClose(c.code)
		})
	}
	publish(t, good, "", "q", "alive")
	if d := recv(t, consume(t, good, "q", true)); string(d.Body) != "alive" {
		t.Fatalf("got %q", d.Body)
	}
}

func rawFrame(typ uint8, ch uint16, payload []byte) []byte {
	b := []byte{typ, byte(ch >> 8), byte(ch)}
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return append(b, frameEnd)
}

// The server sends heartbeats at half the negotiated interval, and a
// client that sends nothing for two intervals is disconnected.
func TestAMQPRawHeartbeat(t *testing.T) {
	e := startEnv(t, Options{})
	r := dialRaw(t, e)
	r.open(1)
	f, err := r.fr.read()
	if err != nil || f.typ != frameHeartbeat {
		t.Fatalf("got frame %d, %v; want a heartbeat", f.typ, err)
	}
	start := time.Now()
	for {
		if _, err := r.fr.read(); err != nil {
			break
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a silent client stayed connected for %v", d)
	}
}

// Channel errors carry RabbitMQ's codes: 404 for a missing queue or
// exchange, 406 for an unknown delivery tag, 403 for a reserved name; an
// unknown vhost fails the connection with 530.
func TestAMQPErrorCodes(t *testing.T) {
	e := startEnv(t, Options{})
	if _, err := e.channel(t).Consume("missing", "", true, false, false, false, nil); code(err) != amqp091.NotFound {
		t.Fatalf("consume a missing queue: %v, want 404", err)
	}
	ch := e.channel(t)
	closed := ch.NotifyClose(make(chan *amqp091.Error, 1))
	publish(t, ch, "no-such-exchange", "k", "x")
	if err := <-closed; err == nil || err.Code != amqp091.NotFound {
		t.Fatalf("publish to a missing exchange: %v, want 404", err)
	}
	ch = e.channel(t)
	closed = ch.NotifyClose(make(chan *amqp091.Error, 1))
	ch.Ack(42, false)
	if err := <-closed; err == nil || err.Code != amqp091.PreconditionFailed {
		t.Fatalf("ack of an unknown tag: %v, want 406", err)
	}
	if err := e.channel(t).ExchangeDeclare("amq.mine", "direct", true, false, false, false, nil); code(err) != amqp091.AccessRefused {
		t.Fatalf("declare amq.mine: %v, want 403", err)
	}
	if _, err := amqp091.Dial("amqp://guest:guest@" + e.addr + "/other"); code(err) != amqp091.NotAllowed {
		t.Fatalf("vhost /other: %v, want 530", err)
	}
	// The failed one goes; the four that e.channel opened stay.
	waitFor(t, "the refused connection closed", func() bool { return e.s.Conns() == 4 })
}
