package kafka

import (
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
	"github.com/twmb/franz-go/pkg/kgo"
)

func header(r *kgo.Record, k string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value), true
		}
	}
	return "", false
}

// TestKafkaCrossProtocol: a message published through the core is read
// by a Kafka consumer; a record produced over Kafka reaches a core
// subscription and a shared group member.
func TestKafkaCrossProtocol(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "xp", 1)
	ctx := testCtx(t)
	if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "workers", Stream: "xp", Mode: server.Shared}); err != nil {
		t.Fatal(err)
	}
	sub, err := e.srv.Subscribe("xp", server.Start{Kind: server.StartEarliest}, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	member, err := e.srv.Join("xp", "workers", 16)
	if err != nil {
		t.Fatal(err)
	}
	defer member.Leave()

	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	_, err = e.srv.Publish(ctx, &server.Message{Subject: "xp.orders.eu", Key: []byte("k1"), Payload: []byte("from core"),
		Headers: []server.Header{{Key: "app", Value: []byte("a1")}}, Time: at}, server.Expect{})
	if err != nil {
		t.Fatal(err)
	}
	cl := e.client(t, kgo.DefaultProduceTopic("xp"), kgo.ConsumeTopics("xp"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	r := consume(t, ctx, cl, 1)[0]
	if string(r.Key) != "k1" || string(r.Value) != "from core" || !r.Timestamp.Equal(at) || r.Offset != 0 {
		t.Fatalf("kafka got key %q value %q at %v offset %d", r.Key, r.Value, r.Timestamp, r.Offset)
	}
	if s, _ := header(r, "courier-subject"); s != "xp.orders.eu" {
		t.Fatalf("courier-subject %q (headers %v)", s, r.Headers)
	}
	if a, _ := header(r, "app"); a != "a1" {
		t.Fatalf("app header %q", a)
	}

	rec := &kgo.Record{Key: []byte("k2"), Value: []byte("from kafka"), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}, Timestamp: at}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-sub.Messages():
		checkFromKafka(t, m, at)
	case <-ctx.Done():
		t.Fatal("subscription got nothing")
	}
	for range 2 {
		select {
		case d := <-member.C():
			if d.Subject == "xp" {
				checkFromKafka(t, &d.Message, at)
			} else if string(d.Payload) != "from core" {
				t.Fatalf("member got %q", d.Payload)
			}
			d.Ack()
		case <-ctx.Done():
			t.Fatal("group member got too little")
		}
	}
}

func checkFromKafka(t *testing.T, m *server.Message, at time.Time) {
	t.Helper()
	if m.Subject != "xp" || string(m.Key) != "k2" || string(m.Payload) != "from kafka" || !m.Time.Equal(at) || m.Offset != 1 {
		t.Fatalf("core got %+v", m)
	}
	if v, _ := m.Header("h"); v != "v" {
		t.Fatalf("headers %v", m.Headers)
	}
}
