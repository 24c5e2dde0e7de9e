package kafka

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
)

func TestKafkaSaramaSmoke(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "sarama", 2)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Compression = sarama.CompressionSnappy
	cfg.Metadata.Retry.Backoff = 10 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
	p, err := sarama.NewSyncProducer([]string{e.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 10 {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "sarama", Partition: 0,
			Key: sarama.StringEncoder("k"), Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := sarama.NewConsumer([]string{e.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in, _ := e.srv.StreamInfo("sarama")
	part := int32(0)
	if in.Partitions[1].HighWatermark > 0 {
		part = 1
	}
	pc, err := c.ConsumePartition("sarama", part, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx := testCtx(t)
	for i := range 10 {
		select {
		case m := <-pc.Messages():
			if string(m.Value) != fmt.Sprint(i) || string(m.Key) != "k" || m.Offset != int64(i) {
				t.Fatalf("message %d: %q %q at %d", i, m.Key, m.Value, m.Offset)
			}
		case err := <-pc.Errors():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("got %d of 10", i)
		}
	}
}

func TestKafkaKafkaGoSmoke(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "kgo2", 1)
	ctx := testCtx(t)
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(e.addr), Topic: "kgo2", RequiredAcks: kafkago.RequireAll,
		BatchTimeout: time.Millisecond, Compression: kafkago.Zstd, Transport: tr}
	defer w.Close()
	var msgs []kafkago.Message
	for i := range 10 {
		msgs = append(msgs, kafkago.Message{Key: []byte("k"), Value: fmt.Append(nil, i),
			Headers: []kafkago.Header{{Key: "h", Value: []byte("v")}}})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{e.addr}, Topic: "kgo2", Partition: 0,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	for i := range 10 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if string(m.Value) != fmt.Sprint(i) || m.Offset != int64(i) || len(m.Headers) != 1 {
			t.Fatalf("message %d: %q at %d, headers %v", i, m.Value, m.Offset, m.Headers)
		}
	}
}
