package stomp

import (
	"context"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/go-stomp/stomp/v3"
)

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestCrossCoreToStomp: messages published through the core arrive
// over STOMP with their subject as destination, in topic and queue form.
func TestCrossCoreToStomp(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	topic, err := c.Subscribe("/topic/sensors.*", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	queue, err := c.Subscribe("/queue/orders", stomp.AckClientIndividual)
	if err != nil {
		t.Fatal(err)
	}
	barrier(t, c)
	ctx := ctx5(t)
	if _, err := e.srv.Publish(ctx, &broker.Message{Subject: "sensors.t1", Payload: []byte("21.5"),
		Headers: []broker.Header{{Key: "content-type", Value: []byte("text/plain")}, {Key: "unit", Value: []byte("C")}}}, broker.Expect{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Publish(ctx, &broker.Message{Subject: "orders", Payload: []byte("o1"), ReplyTo: "replies.x"}, broker.Expect{}); err != nil {
		t.Fatal(err)
	}
	m := recv(t, topic)
	if m.Destination != "/topic/sensors.t1" || m.ContentType != "text/plain" || m.Header.Get("unit") != "C" || string(m.Body) != "21.5" {
		t.Fatalf("topic got %s %s %v %q", m.Destination, m.ContentType, m.Header, m.Body)
	}
	m = recv(t, queue)
	if m.Destination != "/queue/orders" || string(m.Body) != "o1" || m.Header.Get(hdrReplyTo) != "/topic/replies.x" {
		t.Fatalf("queue got %s %q %v", m.Destination, m.Body, m.Header)
	}
}

// TestCrossStompToCore: SENDs arrive through broker.Subscribe and a
// group member with their headers; a receipt means the message is stored.
func TestCrossStompToCore(t *testing.T) {
	e := startEnv(t, Options{})
	bs, err := e.srv.Subscribe("events.>", broker.Start{Kind: broker.StartLatest}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	c := e.dial(t)
	if err := c.Send("/topic/events.login", "application/json", []byte(`{}`),
		stomp.SendOpt.Header("user", "ann"), stomp.SendOpt.Header(hdrReplyTo, "/queue/answers"), stomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-bs.Messages():
		ct, _ := m.Header("content-type")
		user, _ := m.Header("user")
		if m.Subject != "events.login" || ct != "application/json" || user != "ann" || m.ReplyTo != "answers" {
			t.Fatalf("got %+v", m)
		}
		for _, h := range m.Headers {
			switch h.Key {
			case hdrDestination, hdrReceipt, hdrContentLength, hdrReplyTo:
				t.Errorf("STOMP header %s reached the message", h.Key)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}

	// A receipted SEND to a queue is stored before the RECEIPT.
	if err := c.Send("/queue/inbox", "", []byte("stored"), stomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	msgs, _, err := e.srv.ReadMessages("inbox", 0, 0, 10)
	if err != nil || len(msgs) != 1 || string(msgs[0].Payload) != "stored" || msgs[0].Subject != "inbox" {
		t.Fatalf("stream inbox holds %v (%v)", msgs, err)
	}
	m, err := e.srv.Join("inbox", "inbox", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	select {
	case d := <-m.C():
		if string(d.Payload) != "stored" {
			t.Fatalf("group got %q", d.Payload)
		}
		d.Ack()
	case <-time.After(5 * time.Second):
		t.Fatal("group member got nothing")
	}
}

// TestCrossRequestReply: a core request reaches a STOMP consumer, whose
// SEND to the reply-to destination answers it.
func TestCrossRequestReply(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	sub, err := c.Subscribe("/topic/rpc.echo", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	barrier(t, c)
	go func() {
		m, ok := <-sub.C
		if !ok || m.Err != nil {
			return
		}
		c.Send(m.Header.Get(hdrReplyTo), "", append([]byte("re: "), m.Body...))
	}()
	reply, err := e.srv.Request(ctx5(t), &broker.Message{Subject: "rpc.echo", Payload: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if string(reply.Payload) != "re: hi" {
		t.Fatalf("reply %q", reply.Payload)
	}
}
