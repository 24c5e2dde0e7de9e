package amqp

import (
	"fmt"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Two consumers on one queue share its messages, each message once.
func TestAMQPCompetingConsumers(t *testing.T) {
	e := startEnv(t, Options{})
	pub := e.channel(t)
	declareQueue(t, pub, "jobs")
	c1, c2 := e.channel(t), e.channel(t)
	for _, c := range []*amqp091.Channel{c1, c2} {
		if err := c.Qos(1, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	d1, d2 := consume(t, c1, "jobs", false), consume(t, c2, "jobs", false)
	if info, err := e.channel(t).QueueDeclarePassive("jobs", true, false, false, false, nil); err != nil || info.Consumers != 2 {
		t.Fatalf("declare-ok: %+v %v, want 2 consumers", info, err)
	}
	const n = 20
	for i := range n {
		publish(t, pub, "", "jobs", fmt.Sprint(i))
	}
	seen := map[string]int{}
	per := [2]int{}
	for range n {
		var d amqp091.Delivery
		select {
		case d = <-d1:
			per[0]++
		case d = <-d2:
			per[1]++
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d messages", len(seen), n)
		}
		seen[string(d.Body)]++
		d.Ack(false)
	}
	if len(seen) != n {
		t.Fatalf("%d distinct messages, want %d", len(seen), n)
	}
	if per[0] == 0 || per[1] == 0 {
		t.Fatalf("one consumer got nothing: %v", per)
	}
	none(t, d1, 100*time.Millisecond)
	none(t, d2, 0)
}

// With prefetch 2 a consumer holds at most 2 unacknowledged messages.
func TestAMQPPrefetch(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	for i := range 5 {
		publish(t, ch, "", "q", fmt.Sprint(i))
	}
	if err := ch.Qos(2, 0, false); err != nil {
		t.Fatal(err)
	}
	ds := consume(t, ch, "q", false)
	a, b := recv(t, ds), recv(t, ds)
	none(t, ds, 200*time.Millisecond)
	a.Ack(false)
	c := recv(t, ds)
	none(t, ds, 200*time.Millisecond)
	b.Ack(false)
	c.Ack(false)
	got := []string{string(a.Body), string(b.Body), string(c.Body), string(recv(t, ds).Body), string(recv(t, ds).Body)}
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("order %v", got)
	}
}

// nack with requeue, reject with requeue and basic.recover deliver again
// with Redelivered; reject without requeue drops; multiple acks settle
// every tag up to the one given.
func TestAMQPNackRejectRequeue(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	ds := consume(t, ch, "q", false)
	publish(t, ch, "", "q", "m")
	d := recv(t, ds)
	if d.Redelivered {
		t.Fatal("first delivery redelivered")
	}
	d.Nack(false, true)
	d = recv(t, ds)
	if string(d.Body) != "m" || !d.Redelivered {
		t.Fatalf("after nack: %q redelivered %v", d.Body, d.Redelivered)
	}
	d.Reject(true)
	d = recv(t, ds)
	if !d.Redelivered {
		t.Fatal("after reject(requeue): not redelivered")
	}
	if err := ch.Recover(true); err != nil {
		t.Fatal(err)
	}
	d = recv(t, ds)
	if !d.Redelivered {
		t.Fatal("after recover: not redelivered")
	}
	d.Reject(false)
	none(t, ds, 200*time.Millisecond)
	publish(t, ch, "", "q", "x")
	publish(t, ch, "", "q", "y")
	recv(t, ds)
	y := recv(t, ds)
	if err := y.Ack(true); err != nil {
		t.Fatal(err)
	}
	none(t, ds, 200*time.Millisecond)
	if n := queueMessages(t, e, "q"); n != 0 {
		t.Fatalf("%d messages left", n)
	}
}

// queueMessages declares q passively and returns its message count.
func queueMessages(t *testing.T, e *testEnv, q string) int {
	t.Helper()
	info, err := e.channel(t).QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return info.Messages
}

// Unacknowledged messages go to another consumer when their channel
// closes, marked redelivered.
func TestAMQPRedeliveredAfterChannelClose(t *testing.T) {
	e := startEnv(t, Options{})
	ch1 := e.channel(t)
	declareQueue(t, ch1, "q")
	ds1 := consume(t, ch1, "q", false)
	publish(t, ch1, "", "q", "m")
	recv(t, ds1)
	ch1.Close()
	ds2 := consume(t, e.channel(t), "q", false)
	d := recv(t, ds2)
	if string(d.Body) != "m" || !d.Redelivered {
		t.Fatalf("got %q redelivered %v", d.Body, d.Redelivered)
	}
}

// basic.get returns a message or get-empty; a got message is acked like
// a delivered one.
func TestAMQPGet(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	if _, ok, err := ch.Get("q", false); err != nil || ok {
		t.Fatalf("empty queue: ok %v err %v", ok, err)
	}
	publish(t, ch, "", "q", "a")
	publish(t, ch, "", "q", "b")
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		d, ok, err := ch.Get("q", false)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, string(d.Body))
			d.Ack(false)
		}
	}
	if fmt.Sprint(got) != "[a b]" {
		t.Fatalf("got %v", got)
	}
	if _, ok, _ := ch.Get("q", true); ok {
		t.Fatal("a third message")
	}
}

// basic.cancel stops deliveries; messages then wait for the next consumer.
func TestAMQPCancel(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	ds, err := ch.Consume("q", "tag1", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", "q", "one")
	recv(t, ds)
	if err := ch.Cancel("tag1", false); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", "q", "two")
	d := recv(t, consume(t, e.channel(t), "q", true))
	if string(d.Body) != "two" {
		t.Fatalf("got %q", d.Body)
	}
}

// An exclusive consumer keeps others out.
func TestAMQPExclusiveConsumer(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	if _, err := ch.Consume("q", "", true, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.channel(t).Consume("q", "", true, false, false, false, nil)
	if code(err) != amqp091.AccessRefused {
		t.Fatalf("second consumer: %v, want 403", err)
	}
}

// basic.qos with global shares one prefetch among the channel's
// consumers.
func TestAMQPGlobalPrefetch(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "a")
	declareQueue(t, ch, "b")
	for i := range 4 {
		publish(t, ch, "", "a", fmt.Sprint("a", i))
		publish(t, ch, "", "b", fmt.Sprint("b", i))
	}
	if err := ch.Qos(3, 0, true); err != nil {
		t.Fatal(err)
	}
	da, db := consume(t, ch, "a", false), consume(t, ch, "b", false)
	var held []amqp091.Delivery
	for len(held) < 3 {
		select {
		case d := <-da:
			held = append(held, d)
		case d := <-db:
			held = append(held, d)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d deliveries", len(held))
		}
	}
	none(t, da, 200*time.Millisecond)
	none(t, db, 0)
	held[0].Ack(false)
	select {
	case <-da:
	case <-db:
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery after an ack")
	}
	none(t, da, 200*time.Millisecond)
	none(t, db, 0)
}
