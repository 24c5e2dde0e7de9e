package main

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/go-stomp/stomp/v3"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/courier-mq/courier/client"
)

// got is one message as a protocol's subscriber saw it: where it came
// (topic, destination, routing key or subject) and its payload.
type got struct{ where, payload string }

// TestCLIBinaryOneMessageEveryProtocol runs `courier serve` with every
// listener on an ephemeral port, then publishes from each protocol in
// turn (MQTT over TCP and WebSocket, AMQP, STOMP over TCP and WebSocket,
// the native API) to the subjects orders.eu.*,
// which the stream orders captures. Every message reaches a subscriber
// of every protocol, named as that protocol names it, and a Kafka
// consumer replays all of them from the stream, in order.
func TestCLIBinaryOneMessageEveryProtocol(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "data"), "--api-addr", "127.0.0.1:0", "--kafka-addr", "127.0.0.1:0",
		"--amqp-addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0", "--stomp-addr", "127.0.0.1:0",
		"--mqtt-ws-addr", "127.0.0.1:0", "--stomp-ws-addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	native, err := client.Connect(ctx, s.addr["api"])
	if err != nil {
		t.Fatal(err)
	}
	defer native.Close()
	if _, err := native.CreateStream(ctx, client.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	// Each protocol's peer subscribes, and publishes when called.
	subs, publish := map[string]chan got{}, map[string]func(subject string, payload []byte){}
	for name, peer := range map[string]func(*testing.T, chan<- got) func(string, []byte){
		"mqtt": func(t *testing.T, out chan<- got) func(string, []byte) {
			return mqttPeer(t, "tcp://"+s.addr["mqtt"], out)
		},
		"mqtt-ws": func(t *testing.T, out chan<- got) func(string, []byte) {
			return mqttPeer(t, "ws://"+s.addr["mqtt-ws"]+"/mqtt", out)
		},
		"amqp": func(t *testing.T, out chan<- got) func(string, []byte) { return amqpPeer(t, s.addr["amqp"], out) },
		"stomp": func(t *testing.T, out chan<- got) func(string, []byte) {
			return stompPeer(t, stompTCP(t, s.addr["stomp"]), out)
		},
		"stomp-ws": func(t *testing.T, out chan<- got) func(string, []byte) {
			return stompPeer(t, stompWS(t, s.addr["stomp-ws"]), out)
		},
	} {
		subs[name] = make(chan got, 16)
		publish[name] = peer(t, subs[name])
	}
	subs["native"] = make(chan got, 16)
	publish["native"] = nativePeer(t, ctx, native, subs["native"])
	metrics := httpGet(t, "http://"+s.addr["api"]+"/metrics")
	for _, name := range []string{"amqp", "mqtt", "stomp"} {
		if want := `courier_connections{listener="` + name + `"} `; !strings.Contains(metrics, want+"1") && !strings.Contains(metrics, want+"2") {
			t.Errorf("/metrics has no open %s connections:\n%s", name, grepLines(metrics, "courier_connections"))
		}
	}

	var sent []string
	for _, from := range peerNames {
		payload := "from " + from
		publish[from]("orders.eu."+from, []byte(payload))
		sent = append(sent, payload)
		for name, ch := range subs {
			want := got{where: wantWhere(name, "orders.eu."+from), payload: payload}
			select {
			case g := <-ch:
				if g != want {
					t.Errorf("%s subscriber got %+v, want %+v", name, g, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s subscriber got nothing of %q", name, payload)
			}
		}
	}
	kafkaReplays(t, ctx, s.addr["kafka"], sent)
}

// peerNames are the peers in the order they publish.
var peerNames = []string{"mqtt", "mqtt-ws", "amqp", "stomp", "stomp-ws", "native"}

// wantWhere is how peer name shows the subject.
func wantWhere(name, subject string) string {
	switch name {
	case "mqtt", "mqtt-ws":
		return mqttTopic(subject)
	case "stomp", "stomp-ws":
		return "/topic/" + subject
	}
	return subject // AMQP's routing key on amq.topic, the native subject
}

func mqttTopic(subject string) string {
	b := []byte(subject)
	for i, c := range b {
		if c == '.' {
			b[i] = '/'
		}
	}
	return string(b)
}

// mqttPeer subscribes to orders/eu/+ at QoS 1 and publishes at QoS 1,
// over TCP or WebSocket (url's scheme).
func mqttPeer(t *testing.T, url string, out chan<- got) func(string, []byte) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("cross-" + url[:2]))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe("orders/eu/+", 1, func(_ paho.Client, m paho.Message) { out <- got{m.Topic(), string(m.Payload())} })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt subscribe: %v", tok.Error())
	}
	return func(subject string, payload []byte) {
		if tok := c.Publish(mqttTopic(subject), 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("mqtt publish: %v", tok.Error())
		}
	}
}

// amqpPeer consumes a queue bound to amq.topic by orders.eu.*, and
// publishes to amq.topic with confirms.
func amqpPeer(t *testing.T, addr string, out chan<- got) func(string, []byte) {
	conn, err := amqp.Dial("amqp://guest:guest@" + addr + "/")
	if err != nil {
		t.Fatalf("amqp dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("eu-orders", true, false, false, false, nil); err != nil {
		t.Fatalf("queue.declare: %v", err)
	}
	if err := ch.QueueBind("eu-orders", "orders.eu.*", "amq.topic", false, nil); err != nil {
		t.Fatalf("queue.bind: %v", err)
	}
	ds, err := ch.Consume("eu-orders", "", true, false, false, false, nil)
	if err != nil {
		t.Fatalf("basic.consume: %v", err)
	}
	go func() {
		for d := range ds {
			out <- got{d.RoutingKey, string(d.Body)}
		}
	}()
	pub, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Confirm(false); err != nil {
		t.Fatal(err)
	}
	return func(subject string, payload []byte) {
		c, err := pub.PublishWithDeferredConfirm("amq.topic", subject, false, false, amqp.Publishing{Body: payload})
		if err != nil {
			t.Fatalf("amqp publish: %v", err)
		}
		if ok, err := c.WaitContext(context.Background()); !ok || err != nil {
			t.Fatalf("amqp publish not confirmed: %v %v", ok, err)
		}
	}
}

// stompTCP dials STOMP over TCP.
func stompTCP(t *testing.T, addr string) io.ReadWriteCloser {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("stomp dial: %v", err)
	}
	return nc
}

// stompWS dials STOMP over WebSocket (text messages, as browsers send).
func stompWS(t *testing.T, addr string) io.ReadWriteCloser {
	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{Subprotocols: []string{"v12.stomp"}})
	if err != nil {
		t.Fatalf("stomp websocket dial: %v", err)
	}
	return websocket.NetConn(ctx, ws, websocket.MessageText)
}

// stompPeer subscribes to /topic/orders.eu.* and sends with a receipt.
func stompPeer(t *testing.T, nc io.ReadWriteCloser, out chan<- got) func(string, []byte) {
	conn, err := stomp.Connect(nc)
	if err != nil {
		t.Fatalf("stomp connect: %v", err)
	}
	t.Cleanup(func() { conn.Disconnect() })
	sub, err := conn.Subscribe("/topic/orders.eu.*", stomp.AckAuto)
	if err != nil {
		t.Fatalf("stomp subscribe: %v", err)
	}
	go func() {
		for m := range sub.C {
			if m.Err == nil {
				out <- got{m.Destination, string(m.Body)}
			}
		}
	}()
	return func(subject string, payload []byte) {
		if err := conn.Send("/topic/"+subject, "text/plain", payload, stomp.SendOpt.Receipt); err != nil {
			t.Fatalf("stomp send: %v", err)
		}
	}
}

// nativePeer subscribes to orders.eu.* and publishes with the Go client.
func nativePeer(t *testing.T, ctx context.Context, c *client.Client, out chan<- got) func(string, []byte) {
	sub, err := c.Subscribe(ctx, "orders.eu.*", client.Start{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	go func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			out <- got{m.Subject, string(m.Payload)}
		}
	}()
	return func(subject string, payload []byte) {
		if _, err := c.Publish(ctx, &client.Message{Subject: subject, Payload: payload}); err != nil {
			t.Fatalf("native publish: %v", err)
		}
	}
}

// kafkaReplays reads the topic orders from its start and expects the
// payloads sent, in order, each with its subject in courier-subject.
func kafkaReplays(t *testing.T, ctx context.Context, addr string, sent []string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for len(recs) < len(sent) && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("kafka fetch: %v", err)
		}
		recs = append(recs, fs.Records()...)
	}
	if len(recs) != len(sent) {
		t.Fatalf("kafka replayed %d records, want %d", len(recs), len(sent))
	}
	for i, r := range recs {
		subject := ""
		for _, h := range r.Headers {
			if h.Key == "courier-subject" {
				subject = string(h.Value)
			}
		}
		from := peerNames[i]
		if string(r.Value) != sent[i] || subject != "orders.eu."+from {
			t.Errorf("kafka record %d: %q under %q, want %q under %q", i, r.Value, subject, sent[i], "orders.eu."+from)
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
