package amqp

import (
	"errors"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The default exchange routes key q to queue q.
func TestAMQPDefaultExchange(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	q := declareQueue(t, ch, "work")
	if q.Name != "work" {
		t.Fatalf("declared %q", q.Name)
	}
	ds := consume(t, ch, "work", false)
	publish(t, ch, "", "work", "hello")
	d := recv(t, ds)
	if string(d.Body) != "hello" || d.Exchange != "" || d.RoutingKey != "work" || d.Redelivered {
		t.Fatalf("got body %q exchange %q key %q redelivered %v", d.Body, d.Exchange, d.RoutingKey, d.Redelivered)
	}
	if err := d.Ack(false); err != nil {
		t.Fatal(err)
	}
}

// Good credentials connect; bad ones get 403 ACCESS_REFUSED.
func TestAMQPAuth(t *testing.T) {
	e := startEnv(t, Options{Users: map[string]string{"alice": "secret"}})
	e.dialURL(t, "amqp://alice:secret@"+e.addr+"/")
	_, err := amqp091.Dial("amqp://alice:wrong@" + e.addr + "/")
	var ae *amqp091.Error
	if !errors.As(err, &ae) || ae.Code != amqp091.AccessRefused {
		t.Fatalf("bad password: %v, want 403", err)
	}
	c, err := amqp091.DialConfig("amqp://"+e.addr+"/", amqp091.Config{SASL: []amqp091.Authentication{&amqp091.AMQPlainAuth{Username: "alice", Password: "secret"}}})
	if err != nil {
		t.Fatalf("AMQPLAIN: %v", err)
	}
	c.Close()
}
