package mqtt

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/servertest"
	"github.com/courier-mq/courier/server"
	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEnv is an in-process Courier server with an MQTT listener.
type testEnv struct {
	srv  *server.Server
	m    *Server
	addr string
	dir  string

	stopFn func()
}

func startEnv(t *testing.T, o Options) *testEnv {
	t.Helper()
	return startEnvDir(t, t.TempDir(), o)
}

// startEnvDir starts a server on dir; stop ends it (also at cleanup) so a
// test can start another on the same folder.
func startEnvDir(t *testing.T, dir string, o Options) *testEnv {
	t.Helper()
	srv := servertest.Start(t, dir)
	e := &testEnv{srv: srv, m: New(srv.Broker, o), dir: dir}
	e.addr, e.stopFn = servertest.Serve(t, srv, e.m, ErrServerClosed)
	return e
}

func (e *testEnv) stop() { e.stopFn() }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// v3 is a paho.mqtt.golang (MQTT 3.1.1) client.
func (e *testEnv) v3(t *testing.T, id string, clean bool, tune ...func(*pahov3.ClientOptions)) pahov3.Client {
	t.Helper()
	o := pahov3.NewClientOptions().AddBroker("tcp://" + e.addr).SetClientID(id).SetCleanSession(clean).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetKeepAlive(30 * time.Second).
		SetOrderMatters(true)
	for _, f := range tune {
		f(o)
	}
	c := pahov3.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("v3 connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

// inbox collects received messages.
type inbox struct {
	mu  sync.Mutex
	got []recv
	ch  chan struct{}
}

type recv struct {
	topic   string
	payload string
	qos     byte
	retain  bool
	dup     bool
	v5      *paho.Publish
}

func newInbox() *inbox { return &inbox{ch: make(chan struct{}, 1)} }

func (in *inbox) add(r recv) {
	in.mu.Lock()
	in.got = append(in.got, r)
	in.mu.Unlock()
	select {
	case in.ch <- struct{}{}:
	default:
	}
}

func (in *inbox) v3handler(_ pahov3.Client, m pahov3.Message) {
	in.add(recv{topic: m.Topic(), payload: string(m.Payload()), qos: m.Qos(), retain: m.Retained(), dup: m.Duplicate()})
}

// wait waits until n messages arrived and returns them.
func (in *inbox) wait(t *testing.T, n int) []recv {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		in.mu.Lock()
		if len(in.got) >= n {
			out := append([]recv(nil), in.got...)
			in.mu.Unlock()
			return out
		}
		have := len(in.got)
		in.mu.Unlock()
		select {
		case <-in.ch:
		case <-deadline:
			t.Fatalf("got %d of %d messages", have, n)
		}
	}
}

// none checks that nothing more than n messages arrived within d.
func (in *inbox) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.got)
}

// v5 is a paho.golang (MQTT 5) client on a fresh connection.
func (e *testEnv) v5(t *testing.T, cp *paho.Connect, in *inbox) (*paho.Client, *paho.Connack) {
	t.Helper()
	c, ack, err := e.v5try(t, cp, in)
	if err != nil {
		t.Fatalf("v5 connect %s: %v (%+v)", cp.ClientID, err, ack)
	}
	return c, ack
}

func (e *testEnv) v5try(t *testing.T, cp *paho.Connect, in *inbox) (*paho.Client, *paho.Connack, error) {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := paho.ClientConfig{Conn: nc}
	if in != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			p := pr.Packet
			in.add(recv{topic: p.Topic, payload: string(p.Payload), qos: p.QoS, retain: p.Retain, dup: p.Duplicate(), v5: p})
			return true, nil
		}}
	}
	c := paho.NewClient(cfg)
	if cp.KeepAlive == 0 {
		cp.KeepAlive = 30
	}
	ack, err := c.Connect(testCtx(t), cp)
	if err != nil {
		nc.Close()
		<-c.Done()
		return nil, ack, err
	}
	t.Cleanup(func() {
		c.Disconnect(&paho.Disconnect{})
		<-c.Done()
	})
	return c, ack, nil
}

func u32(v uint32) *uint32 { return &v }

func payloads(rs []recv) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.payload)
	}
	return out
}

var _ = fmt.Sprint

const testTimeout = 5 * time.Second

type pahov3Opts = pahov3.ClientOptions

// v3ws is a paho.mqtt.golang client over WebSocket.
func (e *testEnv) v3ws(t *testing.T, id string) pahov3.Client {
	t.Helper()
	o := pahov3.NewClientOptions().AddBroker("ws://" + e.addr + "/mqtt").SetClientID(id).SetCleanSession(true).
		SetProtocolVersion(4).SetAutoReconnect(false).SetOrderMatters(true)
	c := pahov3.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("v3 ws connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}
