package amqp

import (
	"context"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// A message rejected without requeue goes to the queue's dead-letter
// exchange, with the broker's dead-letter headers.
func TestAMQPDeadLetterExchange(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "dlx", "direct")
	bindQueue(t, e, "dead", "dlx", "work")
	ch := e.channel(t)
	_, err := ch.QueueDeclare("work", true, false, false, false, amqp091.Table{
		"x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "work"})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", "work", "bad")
	recv(t, consume(t, ch, "work", false)).Reject(false)
	d := recv(t, consume(t, e.channel(t), "dead", true))
	if string(d.Body) != "bad" || d.Exchange != "dlx" || d.RoutingKey != "work" || d.Headers["courier-dlq-reason"] != "rejected" {
		t.Fatalf("dead letter %q via %q/%q headers %v", d.Body, d.Exchange, d.RoutingKey, d.Headers)
	}
}

// x-delivery-limit dead-letters a message requeued too often.
func TestAMQPDeliveryLimit(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "dlx", "fanout")
	bindQueue(t, e, "dead", "dlx", "")
	ch := e.channel(t)
	_, err := ch.QueueDeclare("work", true, false, false, false, amqp091.Table{
		"x-dead-letter-exchange": "dlx", "x-delivery-limit": int32(1)}) // no key: fine for a fanout
	if err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", "work", "poison")
	ds := consume(t, ch, "work", false)
	recv(t, ds).Nack(false, true)
	recv(t, ds).Nack(false, true)
	none(t, ds, 200*time.Millisecond)
	if d := recv(t, consume(t, e.channel(t), "dead", true)); string(d.Body) != "poison" || d.Headers["courier-dlq-reason"] != "max-deliveries" {
		t.Fatalf("dead letter %q headers %v", d.Body, d.Headers)
	}
}

// Per-message expiration and x-message-ttl drop expired messages.
func TestAMQPExpiration(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	if _, err := ch.QueueDeclare("q", true, false, false, false, amqp091.Table{"x-message-ttl": int32(50)}); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", "q", "short")
	if err := ch.PublishWithContext(testCtx(t), "", "q", false, false, amqp091.Publishing{Expiration: "60000", Body: []byte("long")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // not synchronisation: the TTL has to pass
	if d := recv(t, consume(t, ch, "q", true)); string(d.Body) != "long" {
		t.Fatalf("got %q, want long (short expired)", d.Body)
	}
}

// purge empties a queue; delete honours if-empty and if-unused, and
// cancels the consumers of a deleted queue.
func TestAMQPPurgeAndDelete(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	for range 3 {
		publish(t, ch, "", "q", "m")
	}
	waitFor(t, "3 messages", func() bool { return queueMessages(t, e, "q") == 3 })
	if _, err := e.channel(t).QueueDelete("q", false, true, false); code(err) != 406 {
		t.Fatalf("delete if-empty of a full queue: %v, want 406", err)
	}
	n, err := ch.QueuePurge("q", false)
	if err != nil || n != 3 {
		t.Fatalf("purge: %d %v", n, err)
	}
	cch := e.channel(t)
	cancels := cch.NotifyCancel(make(chan string, 1))
	consume(t, cch, "q", true)
	if _, err := e.channel(t).QueueDelete("q", true, false, false); code(err) != 406 {
		t.Fatalf("delete if-unused of a consumed queue: %v, want 406", err)
	}
	if _, err := ch.QueueDelete("q", false, false, false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cancels:
	case <-time.After(5 * time.Second):
		t.Fatal("the consumer of a deleted queue was not cancelled")
	}
	if _, err := e.srv.StreamInfo("q"); err == nil {
		t.Fatal("stream q still exists")
	}
}

// An auto-delete queue goes when its last consumer does.
func TestAMQPAutoDelete(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	if _, err := ch.QueueDeclare("tmp", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Consume("tmp", "c", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Cancel("c", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "auto-delete", func() bool { _, err := e.srv.GroupInfo("tmp", "tmp"); return err != nil })
}

// amq.topic binds to the stream that captures the key's subjects, so a
// message a native (or MQTT) publisher sends there reaches the queue.
func TestAMQPAmqTopic(t *testing.T) {
	e := startEnv(t, Options{})
	if _, err := e.srv.CreateStream(server.StreamConfig{Name: "sensors", Subjects: []string{"sensors.>"}, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	bindQueue(t, e, "temps", "amq.topic", "sensors.*.temp")
	ch := e.channel(t)
	ds := consume(t, ch, "temps", true)
	if _, err := e.srv.Publish(context.Background(), &server.Message{Subject: "sensors.k1.temp", Payload: []byte("21")}, server.Expect{}); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "amq.topic", "sensors.k2.temp", "22")
	publish(t, ch, "amq.topic", "sensors.k2.humidity", "50")
	for _, want := range []string{"21", "22"} {
		d := recv(t, ds)
		if string(d.Body) != want || d.Exchange != "amq.topic" {
			t.Fatalf("got %q via %q, want %q", d.Body, d.Exchange, want)
		}
	}
	none(t, ds, 100*time.Millisecond)
	if err := e.channel(t).QueueBind("temps", "nowhere.*", "amq.topic", false, nil); code(err) != 406 {
		t.Fatalf("bind with no stream: %v, want 406", err)
	}
}

// A message id is the broker's de-duplication id.
func TestAMQPMessageIDDedup(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	for _, body := range []string{"first", "again"} {
		if err := ch.PublishWithContext(testCtx(t), "", "q", false, false, amqp091.Publishing{MessageId: "m1", Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, ch, "", "q", "other")
	ds := consume(t, ch, "q", true)
	if a, b := recv(t, ds), recv(t, ds); string(a.Body) != "first" || string(b.Body) != "other" {
		t.Fatalf("got %q %q", a.Body, b.Body)
	}
}

// Shutdown asks clients to close with 320 CONNECTION_FORCED.
func TestAMQPShutdown(t *testing.T) {
	e := startEnv(t, Options{})
	conn := e.dial(t)
	closed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	if e.s.Conns() != 1 {
		t.Fatalf("Conns %d", e.s.Conns())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if err == nil || err.Code != amqp091.ConnectionForced {
			t.Fatalf("closed with %v, want 320", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client not closed")
	}
}

// channel.flow pauses deliveries to the channel's consumers.
func TestAMQPChannelFlow(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	ds := consume(t, ch, "q", true)
	if err := ch.Flow(false); err != nil {
		t.Fatal(err)
	}
	publish(t, e.channel(t), "", "q", "m")
	none(t, ds, 200*time.Millisecond)
	if err := ch.Flow(true); err != nil {
		t.Fatal(err)
	}
	recv(t, ds)
}
