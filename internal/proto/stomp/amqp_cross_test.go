package stomp

import (
	"net"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/proto/amqp"
	"github.com/go-stomp/stomp/v3"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// amqpChannel starts the AMQP front-end on e's broker and returns a
// channel of a connected amqp091-go client.
func (e *testEnv) amqpChannel(t *testing.T) *amqp091.Channel {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	as := amqp.New(e.srv.Broker, amqp.Options{})
	served := make(chan error, 1)
	go func() { served <- as.Serve(ln) }()
	conn, err := amqp091.Dial("amqp://guest:guest@" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		as.Close()
		<-served
	})
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestCrossAMQPQueue: queue q is the same queue over AMQP and STOMP,
// whichever front-end creates it.
func TestCrossAMQPQueue(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.amqpChannel(t)
	c := e.dial(t)

	// Declared over AMQP, published to the default exchange, read over STOMP.
	if _, err := ch.QueueDeclare("fromamqp", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Publish("", "fromamqp", false, false, amqp091.Publishing{ContentType: "text/plain", Body: []byte("hello stomp")}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe("/queue/fromamqp", stomp.AckClientIndividual)
	if err != nil {
		t.Fatal(err)
	}
	m := recv(t, sub)
	if m.Destination != "/queue/fromamqp" || m.ContentType != "text/plain" || string(m.Body) != "hello stomp" {
		t.Fatalf("STOMP got %s %s %q", m.Destination, m.ContentType, m.Body)
	}
	c.Ack(m)

	// Created by a STOMP SEND, consumed over AMQP.
	if err := c.Send("/queue/fromstomp", "text/plain", []byte("hello amqp"), stomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclarePassive("fromstomp", true, false, false, false, nil); err != nil {
		t.Fatalf("the queue STOMP created is not an AMQP queue: %v", err)
	}
	ds, err := ch.Consume("fromstomp", "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-ds:
		if string(d.Body) != "hello amqp" || d.ContentType != "text/plain" {
			t.Fatalf("AMQP got %q %q", d.Body, d.ContentType)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("AMQP consumer got nothing")
	}
}

// TestCrossAMQPBinding: a STOMP subscriber of /queue/q also gets what
// reaches q through an AMQP binding, including a STOMP SEND to the
// exchange.
func TestCrossAMQPBinding(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.amqpChannel(t)
	if err := ch.ExchangeDeclare("logs", "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("errs", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind("errs", "*.error", "logs", false, nil); err != nil {
		t.Fatal(err)
	}
	c := e.dial(t)
	sub, err := c.Subscribe("/queue/errs", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send("/exchange/logs/app.info", "", []byte("not bound")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send("/exchange/logs/app.error", "", []byte("bound")); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, sub); string(m.Body) != "bound" || m.Destination != "/queue/errs" {
		t.Fatalf("got %q on %s", m.Body, m.Destination)
	}
	noMessage(t, sub)
}
