package amqp

import (
	"github.com/courier-mq/courier/server"
	"testing"
	"time"
)

// bindQueue declares a queue and binds it to ex with each key.
func bindQueue(t *testing.T, e *testEnv, q, ex string, keys ...string) {
	t.Helper()
	ch := e.channel(t)
	declareQueue(t, ch, q)
	for _, k := range keys {
		if err := ch.QueueBind(q, k, ex, false, nil); err != nil {
			t.Fatalf("bind %s to %s with %q: %v", q, ex, k, err)
		}
	}
}

func declareExchange(t *testing.T, e *testEnv, name, kind string) {
	t.Helper()
	if err := e.channel(t).ExchangeDeclare(name, kind, true, false, false, false, nil); err != nil {
		t.Fatalf("declare exchange %s: %v", name, err)
	}
}

// A direct exchange routes by exact key, and a queue bound by two keys
// gets both.
func TestAMQPDirectExchange(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "logs", "direct")
	bindQueue(t, e, "errs", "logs", "error", "fatal")
	bindQueue(t, e, "infos", "logs", "info")
	ch := e.channel(t)
	errs, infos := consume(t, ch, "errs", true), consume(t, ch, "infos", true)
	for _, k := range []string{"error", "info", "debug", "fatal"} {
		publish(t, ch, "logs", k, k)
	}
	for _, want := range []string{"error", "fatal"} {
		d := recv(t, errs)
		if string(d.Body) != want || d.Exchange != "logs" || d.RoutingKey != want {
			t.Fatalf("errs got %q via %q/%q, want %q", d.Body, d.Exchange, d.RoutingKey, want)
		}
	}
	if d := recv(t, infos); string(d.Body) != "info" {
		t.Fatalf("infos got %q", d.Body)
	}
	none(t, errs, 100*time.Millisecond)
	none(t, infos, 0)
}

// Topic bindings: '*' is one word, '#' zero or more at the end.
func TestAMQPTopicExchange(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "events", "topic")
	bindQueue(t, e, "eu", "events", "orders.eu.*")
	bindQueue(t, e, "all", "events", "orders.#")
	ch := e.channel(t)
	eu, all := consume(t, ch, "eu", true), consume(t, ch, "all", true)
	for _, k := range []string{"orders.eu.created", "orders", "orders.us.created", "orders.eu.x.y", "payments.eu.created"} {
		publish(t, ch, "events", k, k)
	}
	if d := recv(t, eu); string(d.Body) != "orders.eu.created" {
		t.Fatalf("eu got %q", d.Body)
	}
	for _, want := range []string{"orders.eu.created", "orders", "orders.us.created", "orders.eu.x.y"} {
		if d := recv(t, all); string(d.Body) != want {
			t.Fatalf("all got %q, want %q", d.Body, want)
		}
	}
	none(t, eu, 100*time.Millisecond)
	none(t, all, 0)
	// '#' in the middle has no subject pattern.
	if err := e.channel(t).QueueBind("eu", "a.#.b", "events", false, nil); err == nil {
		t.Fatal("a.#.b was accepted")
	}
}

// A fanout exchange gives every message to every bound queue.
func TestAMQPFanoutExchange(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "news", "fanout")
	bindQueue(t, e, "a", "news", "")
	bindQueue(t, e, "b", "news", "ignored")
	ch := e.channel(t)
	a, b := consume(t, ch, "a", true), consume(t, ch, "b", true)
	publish(t, ch, "news", "", "one")
	publish(t, ch, "news", "any.key", "two")
	for _, ds := range []<-chan amqpDelivery{a, b} {
		for _, want := range []string{"one", "two"} {
			if d := recv(t, ds); string(d.Body) != want {
				t.Fatalf("got %q, want %q", d.Body, want)
			}
		}
	}
}

// Unbinding stops routing; a redeclare with another type is refused.
func TestAMQPUnbindAndTypeMismatch(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "x", "direct")
	bindQueue(t, e, "q", "x", "k1", "k2")
	ch := e.channel(t)
	if err := ch.QueueUnbind("q", "k1", "x", nil); err != nil {
		t.Fatal(err)
	}
	ds := consume(t, ch, "q", true)
	publish(t, ch, "x", "k1", "gone")
	publish(t, ch, "x", "k2", "kept")
	if d := recv(t, ds); string(d.Body) != "kept" {
		t.Fatalf("got %q, want kept", d.Body)
	}
	err := e.channel(t).ExchangeDeclare("x", "fanout", true, false, false, false, nil)
	if code(err) != 406 {
		t.Fatalf("redeclare as fanout: %v, want 406", err)
	}
}

// A binding made while a consumer runs reaches it.
func TestAMQPBindWhileConsuming(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "x", "topic")
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	ds := consume(t, ch, "q", true)
	if err := ch.QueueBind("q", "a.*", "x", false, nil); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "x", "a.b", "late")
	if d := recv(t, ds); string(d.Body) != "late" || d.Exchange != "x" || d.RoutingKey != "a.b" {
		t.Fatalf("got %q via %q/%q", d.Body, d.Exchange, d.RoutingKey)
	}
	// The last unbind deletes the binding's group; a new bind makes
	// another, which the running consumer joins too.
	if err := ch.QueueUnbind("q", "a.*", "x", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "binding group gone", func() bool { _, err := e.srv.GroupInfo("x", "q"); return err != nil })
	if err := ch.QueueBind("q", "a.*", "x", false, nil); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "x", "a.c", "again")
	if d := recv(t, ds); string(d.Body) != "again" {
		t.Fatalf("after rebind got %q", d.Body)
	}
}

// An exchange bound to another gets what matches its binding, also
// across a cycle, which ends.
func TestAMQPExchangeToExchange(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "src", "topic")
	declareExchange(t, e, "dst", "direct")
	bindQueue(t, e, "q", "dst", "eu.created")
	ch := e.channel(t)
	if err := ch.ExchangeBind("dst", "eu.*", "src", false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeBind("src", "#", "dst", false, nil); err != nil { // a cycle
		t.Fatal(err)
	}
	ds := consume(t, ch, "q", true)
	publish(t, ch, "src", "eu.created", "through")
	publish(t, ch, "src", "us.created", "filtered")
	d := recv(t, ds)
	if string(d.Body) != "through" || d.Exchange != "dst" || d.RoutingKey != "eu.created" {
		t.Fatalf("got %q via %q/%q", d.Body, d.Exchange, d.RoutingKey)
	}
	none(t, ds, 300*time.Millisecond)
	if err := ch.ExchangeUnbind("dst", "eu.*", "src", false, nil); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "src", "eu.created", "unbound")
	none(t, ds, 300*time.Millisecond)
}

// Forwarders start again with a new server over the same broker.
func TestAMQPExchangeToExchangeRestart(t *testing.T) {
	e := startEnv(t, Options{})
	declareExchange(t, e, "src", "fanout")
	declareExchange(t, e, "dst", "fanout")
	bindQueue(t, e, "q", "dst", "")
	if err := e.channel(t).ExchangeBind("dst", "", "src", false, nil); err != nil {
		t.Fatal(err)
	}
	e.s.Close()
	s2 := New(e.srv.Broker, Options{})
	defer s2.Close()
	if _, err := e.srv.Publish(testCtx(t), &server.Message{Subject: "src.k", Payload: []byte("after")}, server.Expect{}); err != nil {
		t.Fatal(err)
	}
	m, err := e.srv.Join("dst", "q", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	select {
	case d := <-m.C():
		if string(d.Payload) != "after" || d.Subject != "dst.k" {
			t.Fatalf("got %q on %s", d.Payload, d.Subject)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing forwarded after the restart")
	}
}
