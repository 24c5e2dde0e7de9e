package mqtt

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/courier-mq/courier/internal/servertest"
	"github.com/courier-mq/courier/server"
	"github.com/mochi-mqtt/server/v2/packets"
)

// BenchmarkMQTTPublishQoS1 publishes 256-byte QoS 1 messages into a
// stream (fsync before PUBACK) from one pipelining client with up to 64
// in flight.
func BenchmarkMQTTPublishQoS1(b *testing.B) {
	srv, nc, br, buf := benchClient(b, "bench")
	srv.CreateStream(server.StreamConfig{Name: "bench", Subjects: []string{"bench.>"}})
	nc.Write(buf.Bytes())
	skipPacket(b, br)
	payload := bytes.Repeat([]byte("x"), 256)
	window := make(chan struct{}, 64)
	acked := make(chan struct{})
	b.ResetTimer()
	go func() {
		for range b.N {
			skipPacket(b, br)
			<-window
		}
		close(acked)
	}()
	for i := range b.N {
		window <- struct{}{}
		buf.Reset()
		pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, ProtocolVersion: 4,
			TopicName: "bench/a", PacketID: uint16(i%60000 + 1), Payload: payload}
		pk.PublishEncode(buf)
		if _, err := nc.Write(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
	<-acked
}

// BenchmarkMQTTFanoutQoS0 delivers 256-byte core messages (no stream) to
// one QoS 0 subscriber.
func BenchmarkMQTTFanoutQoS0(b *testing.B) {
	srv, nc, br, buf := benchClient(b, "fan")
	sub := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: 4, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: "fan/+", Qos: 0}}}
	sub.SubscribeEncode(buf)
	nc.Write(buf.Bytes())
	skipPacket(b, br)
	skipPacket(b, br)
	payload := bytes.Repeat([]byte("x"), 256)
	got := make(chan struct{})
	window := make(chan struct{}, 256) // uncaptured subjects never wait: the publisher keeps under the subscription's buffer
	b.ResetTimer()
	go func() {
		for range b.N {
			skipPacket(b, br)
			<-window
		}
		close(got)
	}()
	for range b.N {
		window <- struct{}{}
		if _, err := srv.Publish(b.Context(), &server.Message{Subject: "fan.a", Payload: payload}, server.Expect{}); err != nil {
			b.Fatal(err)
		}
	}
	<-got
}

// benchClient starts a server with an MQTT listener and connects a TCP
// client to it; buf holds its CONNECT, which the caller sends (with what
// it appends). All of it ends with b.
func benchClient(b *testing.B, clientID string) (*server.Server, net.Conn, *bufio.Reader, *bytes.Buffer) {
	srv := servertest.Start(b, b.TempDir())
	addr, _ := servertest.Serve(b, srv, New(srv.Broker, Options{}), ErrServerClosed)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	buf := new(bytes.Buffer)
	conn := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4}
	conn.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: clientID, Clean: true}
	conn.ConnectEncode(buf)
	return srv, nc, bufio.NewReader(nc), buf
}

func skipPacket(b *testing.B, br *bufio.Reader) {
	if _, err := br.ReadByte(); err != nil {
		b.Error(err)
		return
	}
	n, _, err := packets.DecodeLength(br)
	if err != nil {
		b.Error(err)
		return
	}
	io.CopyN(io.Discard, br, int64(n))
}
