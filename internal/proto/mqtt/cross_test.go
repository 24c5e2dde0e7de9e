package mqtt

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/courier-mq/courier/client"
	"github.com/courier-mq/courier/internal/api"
	"github.com/courier-mq/courier/internal/proto/amqp"
	"github.com/courier-mq/courier/internal/proto/stomp"
	"github.com/courier-mq/courier/internal/servertest"
	gostomp "github.com/go-stomp/stomp/v3"
	"github.com/mochi-mqtt/server/v2/packets"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// TestCrossHeadersHidden: a message published over MQTT reaches a native
// API client (stored and delivered), an AMQP consumer and a STOMP
// subscriber with its user properties and content type, and none of the
// front-end's own headers (QoS, retain flag, publisher's client id).
func TestCrossHeadersHidden(t *testing.T) {
	e := startEnv(t, Options{})
	createStream(t, e, "mx", "mx")
	nc := e.apiClient(t)
	ctx := testCtx(t)
	sub, err := nc.Subscribe(ctx, "mx", client.StartEarliest())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ch := e.amqpChannel(t)
	if _, err := ch.QueueDeclare("mx", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	ds, err := ch.Consume("mx", "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss := e.stompSub(t, "/topic/mx")

	pub := e.raw(t, 5)
	pub.connect("publisher", true, 0)
	p := publishPk("mx", 1, 1, "hello")
	p.FixedHeader.Retain = true
	p.Properties.ContentType = "text/plain"
	p.Properties.PayloadFormat, p.Properties.PayloadFormatFlag = 1, true
	p.Properties.User = []packets.UserProperty{{Key: "u", Val: "1"}}
	pub.send(p)
	if ack := pub.read(); ack.FixedHeader.Type != packets.Puback || ack.ReasonCode != 0 {
		t.Fatalf("got %s 0x%02x, want PUBACK", packets.PacketNames[ack.FixedHeader.Type], ack.ReasonCode)
	}

	check := func(who string, keys []string) {
		t.Helper()
		has := map[string]bool{}
		for _, k := range keys {
			has[k] = true
			if strings.HasPrefix(k, "mqtt-") {
				t.Errorf("%s sees header %s", who, k)
			}
		}
		if !has["u"] || !has["content-type"] {
			t.Errorf("%s sees %v, want the user property u and content-type", who, keys)
		}
	}
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("API subscriber", apiKeys(m))
	stored, _, err := nc.ReadMessages(ctx, "mx", 0, 0, 1)
	if err != nil || len(stored) != 1 {
		t.Fatalf("ReadMessages: %d %v", len(stored), err)
	}
	check("API ReadMessages", apiKeys(stored[0]))
	select {
	case d := <-ds:
		var keys []string
		for k := range d.Headers {
			keys = append(keys, k)
		}
		if d.ContentType != "" {
			keys = append(keys, "content-type")
		}
		check("AMQP consumer", keys)
	case <-ctx.Done():
		t.Fatal("AMQP consumer got nothing")
	}
	select {
	case sm := <-ss.C:
		if sm.Err != nil {
			t.Fatal(sm.Err)
		}
		var keys []string
		for i := range sm.Header.Len() {
			k, _ := sm.Header.GetAt(i)
			keys = append(keys, k)
		}
		check("STOMP subscriber", keys)
	case <-ctx.Done():
		t.Fatal("STOMP subscriber got nothing")
	}
}

func apiKeys(m *client.Message) []string {
	var keys []string
	for _, h := range m.Headers {
		keys = append(keys, h.Key)
	}
	return keys
}

// apiClient serves the native API on e's broker and returns a client.
func (e *testEnv) apiClient(t *testing.T) *client.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(e.srv.Broker, api.Options{})
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()
	c, err := client.Connect(testCtx(t), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		a.Shutdown(ctx)
		if err := <-served; !errors.Is(err, api.ErrServerClosed) {
			t.Errorf("API Serve returned %v", err)
		}
	})
	return c
}

// serveAlso serves another front-end on e's broker until cleanup (which
// leaves the server to e) and returns its address.
func (e *testEnv) serveAlso(t *testing.T, l servertest.Listener, closedErr error) string {
	t.Helper()
	addr, _ := servertest.ServeOnly(t, l, closedErr)
	return addr
}

// amqpChannel serves AMQP on e's broker and returns a client's channel.
func (e *testEnv) amqpChannel(t *testing.T) *amqp091.Channel {
	t.Helper()
	addr := e.serveAlso(t, amqp.New(e.srv.Broker, amqp.Options{}), amqp.ErrServerClosed)
	conn, err := amqp091.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// stompSub serves STOMP on e's broker and subscribes a client to dest.
// A SEND with a receipt after the SUBSCRIBE returns once the server has
// handled both, so the subscription is in place.
func (e *testEnv) stompSub(t *testing.T, dest string) *gostomp.Subscription {
	t.Helper()
	addr := e.serveAlso(t, stomp.New(e.srv.Broker, stomp.Options{}), stomp.ErrServerClosed)
	c, err := gostomp.Dial("tcp", addr, gostomp.ConnOpt.HeartBeat(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect() })
	s, err := c.Subscribe(dest, gostomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send("/topic/sync", "text/plain", nil, gostomp.SendOpt.Receipt); err != nil {
		t.Fatal(err)
	}
	return s
}
