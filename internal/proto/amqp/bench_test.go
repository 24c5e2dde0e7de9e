package amqp

import (
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// BenchmarkAMQPCodec encodes and decodes a basic.deliver with content.
func BenchmarkAMQPCodec(b *testing.B) {
	p := &Properties{Flags: flagContentType | flagHeaders, ContentType: "text/plain", Headers: Table{"k": "v"}}
	body := make([]byte, 256)
	m := &basicDeliver{ConsumerTag: "ctag", DeliveryTag: 1, Exchange: "x", RoutingKey: "a.b"}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendContent(buf[:0], 1, m, p, body, DefaultFrameMax)
		if _, err := decodeMethod(buf[7 : 7+int(buf[6])]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAMQPPublishConsume publishes with amqp091-go (no confirms) and
// consumes with auto-ack over loopback: the front-end's cost per message
// both ways.
func BenchmarkAMQPPublishConsume(b *testing.B) {
	e := startEnvB(b)
	conn, err := amqp091.Dial("amqp://guest:guest@" + e.addr + "/")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ch.QueueDeclare("bench", true, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	ch.Qos(256, 0, false)
	ds, err := ch.Consume("bench", "", false, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 256)
	done := make(chan struct{})
	n := b.N
	go func() {
		for i := 0; i < n; i++ {
			d := <-ds
			d.Ack(false)
		}
		close(done)
	}()
	b.ResetTimer()
	for range n {
		if err := ch.Publish("", "bench", false, false, amqp091.Publishing{Body: body}); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}
