package amqp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/servertest"
	"github.com/courier-mq/courier/server"
	amqp091 "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testEnv is an in-process Courier server with an AMQP listener.
type testEnv struct {
	srv  *server.Server
	s    *Server
	addr string
}

func startEnv(t *testing.T, o Options) *testEnv { return startEnvTB(t, o) }

func startEnvB(b *testing.B) *testEnv { return startEnvTB(b, Options{}) }

func startEnvTB(t testing.TB, o Options) *testEnv {
	t.Helper()
	srv := servertest.Start(t, t.TempDir())
	s := New(srv.Broker, o)
	addr, _ := servertest.Serve(t, srv, s, ErrServerClosed)
	return &testEnv{srv: srv, s: s, addr: addr}
}

// dial connects with guest/guest; the connection closes at cleanup.
func (e *testEnv) dial(t *testing.T) *amqp091.Connection {
	t.Helper()
	return e.dialURL(t, "amqp://guest:guest@"+e.addr+"/")
}

func (e *testEnv) dialURL(t *testing.T, url string) *amqp091.Connection {
	t.Helper()
	c, err := amqp091.Dial(url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// channel opens a channel on a new connection.
func (e *testEnv) channel(t *testing.T) *amqp091.Channel {
	t.Helper()
	ch, err := e.dial(t).Channel()
	if err != nil {
		t.Fatalf("channel: %v", err)
	}
	return ch
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for one delivery.
func recv(t *testing.T, ds <-chan amqp091.Delivery) amqp091.Delivery {
	t.Helper()
	select {
	case d, ok := <-ds:
		if !ok {
			t.Fatal("delivery channel closed")
		}
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery within 5s")
	}
	return amqp091.Delivery{}
}

// none checks that no delivery arrives within a short while.
func none(t *testing.T, ds <-chan amqp091.Delivery, d time.Duration) {
	t.Helper()
	select {
	case m := <-ds:
		t.Fatalf("unexpected delivery %q", m.Body)
	case <-time.After(d):
	}
}

func publish(t *testing.T, ch *amqp091.Channel, ex, key, body string) {
	t.Helper()
	if err := ch.PublishWithContext(testCtx(t), ex, key, false, false, amqp091.Publishing{Body: []byte(body)}); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func declareQueue(t *testing.T, ch *amqp091.Channel, name string) amqp091.Queue {
	t.Helper()
	q, err := ch.QueueDeclare(name, true, false, false, false, nil)
	if err != nil {
		t.Fatalf("declare %s: %v", name, err)
	}
	return q
}

func consume(t *testing.T, ch *amqp091.Channel, q string, autoAck bool) <-chan amqp091.Delivery {
	t.Helper()
	ds, err := ch.Consume(q, "", autoAck, false, false, false, nil)
	if err != nil {
		t.Fatalf("consume %s: %v", q, err)
	}
	return ds
}

type amqpDelivery = amqp091.Delivery

// code returns an AMQP error's reply code, 0 for another error.
func code(err error) int {
	var ae *amqp091.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}
