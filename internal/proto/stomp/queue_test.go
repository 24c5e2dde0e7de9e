package stomp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/go-stomp/stomp/v3"
)

func sendN(t *testing.T, c *stomp.Conn, dest string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := c.Send(dest, "text/plain", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	barrier(t, c)
}

func TestQueueCompetingConsumers(t *testing.T) {
	e := startEnv(t, Options{})
	c1, c2 := e.dial(t), e.dial(t)
	s1, err := c1.Subscribe("/queue/work", stomp.AckClientIndividual, stomp.SubscribeOpt.Header(hdrPrefetch, "1"))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c2.Subscribe("/queue/work", stomp.AckClientIndividual, stomp.SubscribeOpt.Header(hdrPrefetch, "1"))
	if err != nil {
		t.Fatal(err)
	}
	barrier(t, c1)
	barrier(t, c2)
	sendN(t, e.dial(t), "/queue/work", 0, 20)
	seen := map[string]int{}
	per := [2]int{}
	for range 20 {
		var m *stomp.Message
		var c *stomp.Conn
		select {
		case m = <-s1.C:
			c = c1
			per[0]++
		case m = <-s2.C:
			c = c2
			per[1]++
		}
		if m.Err != nil {
			t.Fatal(m.Err)
		}
		if m.Destination != "/queue/work" {
			t.Errorf("destination %s", m.Destination)
		}
		seen[string(m.Body)]++
		if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 20 || per[0] == 0 || per[1] == 0 {
		t.Fatalf("seen %d distinct, split %v: both consumers must share the 20", len(seen), per)
	}
}

// TestQueueClientAckCumulative: in client mode an ACK settles every
// earlier message; the unacked rest go to another consumer when the
// first disconnects.
func TestQueueClientAckCumulative(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	sendN(t, c, "/queue/cum", 0, 5)
	sub, err := c.Subscribe("/queue/cum", stomp.AckClient, stomp.SubscribeOpt.Header(hdrPrefetch, "10"))
	if err != nil {
		t.Fatal(err)
	}
	var ms []*stomp.Message
	for range 5 {
		ms = append(ms, recv(t, sub))
	}
	if err := c.Ack(ms[2]); err != nil { // settles 0, 1 and 2
		t.Fatal(err)
	}
	barrier(t, c)
	c.MustDisconnect()

	c2 := e.dial(t)
	sub2, err := c2.Subscribe("/queue/cum", stomp.AckClientIndividual)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3", "4"} {
		m := recv(t, sub2)
		if string(m.Body) != want || m.Header.Get(hdrRedelivered) != "true" {
			t.Fatalf("got %q redelivered=%q, want %s redelivered", m.Body, m.Header.Get(hdrRedelivered), want)
		}
		c2.Ack(m)
	}
	noMessage(t, sub2)
}

func TestQueueClientIndividualAck(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	sendN(t, c, "/queue/ind", 0, 3)
	sub, err := c.Subscribe("/queue/ind", stomp.AckClientIndividual)
	if err != nil {
		t.Fatal(err)
	}
	ms := []*stomp.Message{recv(t, sub), recv(t, sub), recv(t, sub)}
	if err := c.Ack(ms[1]); err != nil { // only the middle one
		t.Fatal(err)
	}
	barrier(t, c)
	c.MustDisconnect()

	c2 := e.dial(t)
	sub2, err := c2.Subscribe("/queue/ind", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{string(recv(t, sub2).Body): true, string(recv(t, sub2).Body): true}
	if !got["0"] || !got["2"] {
		t.Fatalf("redelivered %v, want 0 and 2", got)
	}
	noMessage(t, sub2)
}

func TestQueueNackRedelivers(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	sendN(t, c, "/queue/nk", 0, 1)
	sub, err := c.Subscribe("/queue/nk", stomp.AckClientIndividual)
	if err != nil {
		t.Fatal(err)
	}
	m := recv(t, sub)
	if m.Header.Get(hdrRedelivered) != "" {
		t.Fatalf("first delivery marked redelivered")
	}
	if err := c.Nack(m); err != nil {
		t.Fatal(err)
	}
	m2 := recv(t, sub)
	if string(m2.Body) != "0" || m2.Header.Get(hdrRedelivered) != "true" {
		t.Fatalf("got %q %v", m2.Body, m2.Header)
	}
	if err := c.Ack(m2); err != nil {
		t.Fatal(err)
	}
	barrier(t, c)
	gi, err := e.srv.GroupInfo("nk", "nk")
	if err != nil {
		t.Fatal(err)
	}
	if gi.Acked != 1 || gi.Redelivered != 1 {
		t.Fatalf("group acked %d redelivered %d, want 1 and 1", gi.Acked, gi.Redelivered)
	}
}

func TestQueueAutoAckSettles(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	sendN(t, c, "/queue/auto", 0, 10)
	sub, err := c.Subscribe("/queue/auto", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if m := recv(t, sub); string(m.Body) != fmt.Sprint(i) {
			t.Fatalf("got %q, want %d (in order)", m.Body, i)
		}
	}
	c.Disconnect()
	c2 := e.dial(t)
	sub2, err := c2.Subscribe("/queue/auto", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	barrier(t, c2)
	noMessage(t, sub2)
}

// TestQueueMergesStreams: a queue subscription also takes group q on
// the other streams that have one (where AMQP bindings put it).
func TestQueueMergesStreams(t *testing.T) {
	e := startEnv(t, Options{})
	if _, err := e.srv.CreateStream(broker.StreamConfig{Name: "ex", Subjects: []string{"ex.>"}, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.CreateGroup(broker.GroupConfig{Name: "jobs", Stream: "ex", Filter: "ex.jobs.>"}); err != nil {
		t.Fatal(err)
	}
	c := e.dial(t)
	sub, err := c.Subscribe("/queue/jobs", stomp.AckClientIndividual)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send("/exchange/ex/jobs.a", "", []byte("from-exchange")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send("/queue/jobs", "", []byte("direct")); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for range 2 {
		m := recv(t, sub)
		got[string(m.Body)] = m.Destination
		c.Ack(m)
	}
	if got["from-exchange"] != "/queue/jobs" || got["direct"] != "/queue/jobs" {
		t.Fatalf("got %v", got)
	}
}

func TestQueueInvalidName(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.rawConnect(t)
	rc.send("SEND\ndestination:/queue/a.b\nreceipt:r1\n\nx\x00")
	f := rc.expectError("invalid queue name")
	if f.Value(hdrReceiptID) != "r1" {
		t.Errorf("ERROR receipt-id %q", f.Value(hdrReceiptID))
	}
}

// TestQueueDeletedStream: a SEND to a queue whose stream was deleted
// meanwhile is not lost silently: it gets an ERROR.
func TestQueueDeletedStream(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.rawConnect(t)
	rc.send("SEND\ndestination:/queue/gone\nreceipt:r1\n\nx\x00")
	if f := rc.read(); f.Command != cmdReceipt {
		t.Fatalf("got %s", f.Command)
	}
	if err := e.srv.DeleteGroup("gone", "gone"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.DeleteStream("gone"); err != nil {
		t.Fatal(err)
	}
	rc.send("SEND\ndestination:/queue/gone\nreceipt:r2\n\ny\x00")
	if f := rc.expectError("publish failed"); f.Value(hdrReceiptID) != "r2" {
		t.Fatalf("receipt-id %q", f.Value(hdrReceiptID))
	}
}

// TestQueueAckBefore12: STOMP 1.0 and 1.1 clients ack by message-id
// (and subscription); 1.0 has no NACK.
func TestQueueAckBefore12(t *testing.T) {
	e := startEnv(t, Options{})
	for _, v := range []stomp.Version{stomp.V10, stomp.V11} {
		q := "/queue/old" + strings.ReplaceAll(string(v), ".", "")
		c := e.dial(t, stomp.ConnOpt.AcceptVersion(v))
		sendN(t, c, q, 0, 2)
		sub, err := c.Subscribe(q, stomp.AckClientIndividual)
		if err != nil {
			t.Fatal(err)
		}
		m0, m1 := recv(t, sub), recv(t, sub)
		if err := c.Ack(m0); err != nil {
			t.Fatal(err)
		}
		if v == stomp.V11 {
			if err := c.Nack(m1); err != nil {
				t.Fatal(err)
			}
			if m := recv(t, sub); string(m.Body) != "1" || m.Header.Get(hdrRedelivered) != "true" {
				t.Fatalf("%s: NACK redelivered %q %v", v, m.Body, m.Header)
			} else {
				c.Ack(m)
			}
		} else {
			c.Ack(m1)
		}
		barrier(t, c)
		gi, err := e.srv.GroupInfo(q[len("/queue/"):], q[len("/queue/"):])
		if err != nil || gi.Acked != 2 {
			t.Fatalf("%s: acked %d (%v), want 2", v, gi.Acked, err)
		}
	}
}
