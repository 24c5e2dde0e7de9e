package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/vfs"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is a broker on an in-memory filesystem and metadata store that a
// test can restart.
type env struct {
	t  testing.TB
	fs vfs.FS
	kv KV
	b  *Broker
}

func newEnv(t testing.TB) *env {
	e := &env{t: t, fs: vfs.NewMem(), kv: NewMemKV()}
	e.open()
	t.Cleanup(func() {
		if e.b != nil {
			e.b.Close()
		}
	})
	return e
}

func (e *env) open() {
	e.t.Helper()
	b, err := Open(Options{Dir: "data", FS: e.fs, Meta: e.kv})
	if err != nil {
		e.t.Fatalf("open broker: %v", err)
	}
	e.b = b
}

// restart closes and reopens the broker on the same data.
func (e *env) restart() {
	e.t.Helper()
	if err := e.b.Close(); err != nil {
		e.t.Fatalf("close: %v", err)
	}
	e.b = nil
	e.open()
}

func (e *env) stream(cfg StreamConfig) {
	e.t.Helper()
	if _, err := e.b.CreateStream(cfg); err != nil {
		e.t.Fatalf("create stream %s: %v", cfg.Name, err)
	}
}

func (e *env) group(cfg GroupConfig) {
	e.t.Helper()
	if _, err := e.b.CreateGroup(cfg); err != nil {
		e.t.Fatalf("create group %s: %v", cfg.Name, err)
	}
}

func (e *env) pub(subj string, payload string, opts ...func(*Message)) PubAck {
	e.t.Helper()
	m := &Message{Subject: subj, Payload: []byte(payload)}
	for _, o := range opts {
		o(m)
	}
	ack, err := e.b.Publish(context.Background(), m, Expect{})
	if err != nil {
		e.t.Fatalf("publish %s: %v", subj, err)
	}
	return ack
}

func withKey(k string) func(*Message)          { return func(m *Message) { m.Key = []byte(k) } }
func withID(id string) func(*Message)          { return func(m *Message) { m.ID = id } }
func withTTL(d time.Duration) func(*Message)   { return func(m *Message) { m.TTL = d } }
func withDeliverAt(t time.Time) func(*Message) { return func(m *Message) { m.DeliverAt = t } }
func withHeader(k, v string) func(*Message) {
	return func(m *Message) { m.Headers = append(m.Headers, Header{Key: k, Value: []byte(v)}) }
}
func join(t testing.TB, b *Broker, s, g string, n int) *Member {
	t.Helper()
	m, err := b.Join(s, g, n)
	if err != nil {
		t.Fatalf("join %s/%s: %v", s, g, err)
	}
	return m
}

// next waits for one delivery (fails the test after a real-time second,
// or a fake-clock minute inside a synctest bubble).
func next(t testing.TB, m *Member) *Delivery {
	t.Helper()
	select {
	case d := <-m.C():
		return d
	case <-time.After(5 * time.Second):
		t.Fatalf("no delivery")
	}
	return nil
}

// none asserts that nothing is delivered to m within d.
func none(t testing.TB, m *Member, d time.Duration) {
	t.Helper()
	select {
	case x := <-m.C():
		t.Fatalf("unexpected delivery of offset %d (%q)", x.Offset, x.Payload)
	case <-time.After(d):
	}
}

func recv(t testing.TB, s *Subscription) *Message {
	t.Helper()
	select {
	case m := <-s.Messages():
		return m
	case <-s.Done():
		t.Fatalf("subscription ended: %v", s.Err())
	case <-time.After(5 * time.Second):
		t.Fatalf("no message")
	}
	return nil
}

func payloads(ms []*Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Payload)
	}
	return out
}

func num(i int) string { return fmt.Sprintf("m%05d", i) }
