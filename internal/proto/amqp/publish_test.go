package amqp

import (
	"context"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// In confirm mode every publish is acked, in order, and the message is
// stored by then.
func TestAMQPPublisherConfirms(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp091.Confirmation, 10))
	for range 3 {
		publish(t, ch, "", "q", "m")
	}
	for i := uint64(1); i <= 3; i++ {
		select {
		case c := <-confirms:
			if c.DeliveryTag != i || !c.Ack {
				t.Fatalf("confirm %+v, want ack of %d", c, i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no confirm %d", i)
		}
	}
	si, err := e.srv.StreamInfo("q")
	if err != nil || si.Partitions[0].HighWatermark != 3 {
		t.Fatalf("stream q after 3 confirms: %+v %v", si.Partitions, err)
	}
}

// A publish the broker refuses (larger than the stream's limit) is
// nacked, and the channel carries on.
func TestAMQPPublisherNack(t *testing.T) {
	e := startEnv(t, Options{})
	if _, err := e.srv.CreateStream(server.StreamConfig{Name: "small", Subjects: []string{"small"}, Partitions: 1, MaxMsgSize: 100}); err != nil {
		t.Fatal(err)
	}
	ch := e.channel(t)
	declareQueue(t, ch, "small")
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{200, 10} {
		dc, err := ch.PublishWithDeferredConfirmWithContext(testCtx(t), "", "small", false, false, amqp091.Publishing{Body: make([]byte, size)})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := dc.WaitContext(testCtx(t))
		if err != nil || ok != (size == 10) {
			t.Fatalf("%d bytes: ack %v err %v", size, ok, err)
		}
	}
}

// A body above Options.MaxBodySize closes the channel with 406 before it
// is buffered; the connection carries on.
func TestAMQPBodyTooLarge(t *testing.T) {
	e := startEnv(t, Options{MaxBodySize: 1000})
	conn := e.dial(t)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	closed := ch.NotifyClose(make(chan *amqp091.Error, 1))
	declareQueue(t, ch, "q")
	publish(t, ch, "", "q", string(make([]byte, 5000)))
	select {
	case err := <-closed:
		if err == nil || err.Code != 406 {
			t.Fatalf("channel closed with %v, want 406", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel stayed open")
	}
	ch2, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	publish(t, ch2, "", "q", "small")
	if d := recv(t, consume(t, ch2, "q", true)); string(d.Body) != "small" {
		t.Fatalf("got %q", d.Body)
	}
}

// A mandatory publish nobody would take comes back as basic.return.
func TestAMQPMandatoryReturn(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareExchange(t, e, "x", "direct")
	bindQueue(t, e, "q", "x", "k")
	returns := ch.NotifyReturn(make(chan amqp091.Return, 2))
	for _, k := range []string{"nobody", "k"} {
		if err := ch.PublishWithContext(testCtx(t), "x", k, true, false, amqp091.Publishing{Body: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.PublishWithContext(testCtx(t), "", "no-such-queue", true, false, amqp091.Publishing{Body: []byte("lost")}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"nobody", "lost"} {
		select {
		case r := <-returns:
			if r.ReplyCode != 312 || string(r.Body) != want {
				t.Fatalf("return %d %q, want 312 %q", r.ReplyCode, r.Body, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no return")
		}
	}
	if d := recv(t, consume(t, ch, "q", true)); string(d.Body) != "k" {
		t.Fatalf("q got %q", d.Body)
	}
}

// Properties set by an AMQP publisher reach an AMQP consumer.
func TestAMQPPropertiesRoundTrip(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	ts := time.Unix(1700000000, 0)
	p := amqp091.Publishing{
		ContentType: "application/json", ContentEncoding: "gzip", DeliveryMode: 2, Priority: 3,
		CorrelationId: "corr", ReplyTo: "replies", Expiration: "60000", MessageId: "id-1",
		Timestamp: ts, Type: "order", UserId: "guest", AppId: "app",
		Headers: amqp091.Table{"s": "text", "n": int32(7), "b": true, "nested": amqp091.Table{"x": "y"}},
		Body:    []byte("{}"),
	}
	if err := ch.PublishWithContext(testCtx(t), "", "q", false, false, p); err != nil {
		t.Fatal(err)
	}
	d := recv(t, consume(t, ch, "q", true))
	if d.ContentType != p.ContentType || d.ContentEncoding != p.ContentEncoding || d.DeliveryMode != 2 || d.Priority != 3 ||
		d.CorrelationId != "corr" || d.ReplyTo != "replies" || d.Expiration != "60000" || d.MessageId != "id-1" ||
		!d.Timestamp.Equal(ts) || d.Type != "order" || d.UserId != "guest" || d.AppId != "app" {
		t.Fatalf("properties: %+v", d)
	}
	if d.Headers["s"] != "text" || d.Headers["n"] != int32(7) || d.Headers["b"] != true {
		t.Fatalf("headers %v", d.Headers)
	}
	if n, _ := d.Headers["nested"].(amqp091.Table); n["x"] != "y" {
		t.Fatalf("nested table %v", d.Headers["nested"])
	}
}

// A broker publish to subject q reaches an AMQP consumer of queue q, and
// an AMQP publish reaches a broker subscriber.
func TestAMQPCrossProtocol(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	ds := consume(t, ch, "q", true)
	_, err := e.srv.Publish(context.Background(), &server.Message{Subject: "q", Payload: []byte("native"),
		Headers: []server.Header{{Key: "k", Value: []byte("v")}}}, server.Expect{})
	if err != nil {
		t.Fatal(err)
	}
	d := recv(t, ds)
	if string(d.Body) != "native" || d.Headers["k"] != "v" {
		t.Fatalf("got %q headers %v", d.Body, d.Headers)
	}
	declareExchange(t, e, "x", "topic")
	sub, err := e.srv.Subscribe("x.>", server.Start{Kind: server.StartLatest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := ch.PublishWithContext(testCtx(t), "x", "a.b", false, false, amqp091.Publishing{ContentType: "text/plain", Body: []byte("amqp")}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-sub.Messages():
		ct, _ := m.Header("content-type")
		if m.Subject != "x.a.b" || string(m.Payload) != "amqp" || ct != "text/plain" {
			t.Fatalf("subscriber got %s %q content-type %q", m.Subject, m.Payload, ct)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber got nothing")
	}
}
