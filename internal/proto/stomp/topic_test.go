package stomp

import (
	"testing"

	"github.com/go-stomp/stomp/v3"
)

func TestTopicSendSubscribe(t *testing.T) {
	e := startEnv(t, Options{})
	sc := e.dial(t)
	sub, err := sc.Subscribe("/topic/orders.eu", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	barrier(t, sc)
	pc := e.dial(t)
	if err := pc.Send("/topic/orders.eu", "application/json", []byte(`{"n":1}`),
		stomp.SendOpt.Header("x-trace", "a:b\nc"), stomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	m := recv(t, sub)
	if m.Destination != "/topic/orders.eu" || m.ContentType != "application/json" || string(m.Body) != `{"n":1}` {
		t.Fatalf("got %s %s %q", m.Destination, m.ContentType, m.Body)
	}
	if v := m.Header.Get("x-trace"); v != "a:b\nc" {
		t.Errorf("x-trace %q", v)
	}
	if m.Header.Get(hdrSubscription) != sub.Id() || m.Header.Get(hdrMessageID) == "" {
		t.Errorf("headers %v", m.Header)
	}
}

func TestTopicWildcards(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	star, err := c.Subscribe("/topic/a.*.c", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := c.Subscribe("/topic/a.#", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"/topic/a.b.c", "/topic/a.b.d"} {
		if err := c.Send(d, "", []byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if m := recv(t, star); m.Destination != "/topic/a.b.c" {
		t.Errorf("a.*.c got %s", m.Destination)
	}
	for _, want := range []string{"/topic/a.b.c", "/topic/a.b.d"} {
		if m := recv(t, hash); m.Destination != want {
			t.Errorf("a.# got %s, want %s", m.Destination, want)
		}
	}
	noMessage(t, star)
}

func TestTopicExchangeAndBareDestinations(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	ex, err := c.Subscribe("/exchange/orders/*.created", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := c.Subscribe("orders/eu/created", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send("/exchange/orders/eu.created", "", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, ex); m.Destination != "/exchange/orders/eu.created" {
		t.Errorf("exchange subscription got %s", m.Destination)
	}
	if m := recv(t, bare); m.Destination != "/topic/orders.eu.created" {
		t.Errorf("bare subscription got %s", m.Destination)
	}
}

// TestTopicUnsubscribe uses a raw socket: go-stomp's Unsubscribe can
// miss its receipt's wake-up (a sync.Cond waited on from another
// goroutine) and then waits 30 s.
func TestTopicUnsubscribe(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.rawConnect(t)
	rc.send("SUBSCRIBE\nid:1\ndestination:/topic/u\n\n\x00UNSUBSCRIBE\nid:1\nreceipt:r\n\n\x00")
	if f := rc.read(); f.Command != cmdReceipt || f.Value(hdrReceiptID) != "r" {
		t.Fatalf("got %s %v", f.Command, f.Headers)
	}
	rc.send("SUBSCRIBE\nid:2\ndestination:/topic/u2\n\n\x00SEND\ndestination:/topic/u\n\ngone\x00SEND\ndestination:/topic/u2\n\nhere\x00")
	if f := rc.read(); f.Command != cmdMessage || f.Value(hdrSubscription) != "2" || string(f.Body) != "here" {
		t.Fatalf("got %s %v %q", f.Command, f.Headers, f.Body)
	}
}
