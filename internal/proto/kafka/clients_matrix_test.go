package kafka

import (
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
)

// TestKafkaSaramaAcksAndCodecs produces with sarama in every acks mode and
// with every compression codec, and consumes the records back.
func TestKafkaSaramaAcksAndCodecs(t *testing.T) {
	e := startEnv(t, Options{})
	acks := map[string]sarama.RequiredAcks{"acks0": sarama.NoResponse, "acks1": sarama.WaitForLocal, "acksall": sarama.WaitForAll}
	codecs := map[string]sarama.CompressionCodec{"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP,
		"snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD}
	for an, a := range acks {
		for cn, c := range codecs {
			topic := "sarama-" + an + "-" + cn
			e.createStream(t, topic, 1)
			cfg := sarama.NewConfig()
			cfg.Version = sarama.V3_6_0_0
			cfg.Producer.Return.Successes = true
			cfg.Producer.RequiredAcks, cfg.Producer.Compression = a, c
			cfg.Consumer.MaxWaitTime = 100 * time.Millisecond
			p, err := sarama.NewSyncProducer([]string{e.addr}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
					t.Fatalf("%s: send: %v", topic, err)
				}
			}
			p.Close()
			saramaExpect(t, e, cfg, topic, 5)
		}
	}
}

func saramaExpect(t *testing.T, e *testEnv, cfg *sarama.Config, topic string, n int) {
	t.Helper()
	c, err := sarama.NewConsumer([]string{e.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx := testCtx(t)
	for i := range n {
		select {
		case m := <-pc.Messages():
			if string(m.Value) != fmt.Sprint(i) {
				t.Fatalf("%s: message %d is %q", topic, i, m.Value)
			}
		case err := <-pc.Errors():
			t.Fatalf("%s: %v", topic, err)
		case <-ctx.Done():
			t.Fatalf("%s: got %d of %d", topic, i, n)
		}
	}
}

// TestKafkaKafkaGoAcksAndCodecs does the same with kafka-go.
func TestKafkaKafkaGoAcksAndCodecs(t *testing.T) {
	e := startEnv(t, Options{})
	acks := map[string]kafkago.RequiredAcks{"acks0": kafkago.RequireNone, "acks1": kafkago.RequireOne, "acksall": kafkago.RequireAll}
	codecs := map[string]compress.Compression{"none": 0, "gzip": kafkago.Gzip, "snappy": kafkago.Snappy,
		"lz4": kafkago.Lz4, "zstd": kafkago.Zstd}
	for an, a := range acks {
		for cn, c := range codecs {
			topic := "kgo-" + an + "-" + cn
			e.createStream(t, topic, 1)
			tr := &kafkago.Transport{} // its metadata cache would not know the new topic
			ctx := testCtx(t)
			w := &kafkago.Writer{Addr: kafkago.TCP(e.addr), Topic: topic, RequiredAcks: a, Compression: c,
				BatchTimeout: time.Millisecond, Transport: tr}
			var msgs []kafkago.Message
			for i := range 5 {
				msgs = append(msgs, kafkago.Message{Value: fmt.Append(nil, i)})
			}
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				t.Fatalf("%s: write: %v", topic, err)
			}
			w.Close()
			tr.CloseIdleConnections()
			r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{e.addr}, Topic: topic, Partition: 0,
				MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond})
			for i := range 5 {
				m, err := r.ReadMessage(ctx)
				if err != nil || string(m.Value) != fmt.Sprint(i) {
					r.Close()
					t.Fatalf("%s: read %d: %q %v", topic, i, m.Value, err)
				}
			}
			r.Close()
		}
	}
}
