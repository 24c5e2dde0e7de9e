package mqtt

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
	"github.com/mochi-mqtt/server/v2/packets"
)

// seedPackets returns encoded client packets of both versions.
func seedPackets(v byte) [][]byte {
	enc := func(pk *packets.Packet) []byte {
		pk.ProtocolVersion = v
		var b bytes.Buffer
		switch pk.FixedHeader.Type {
		case packets.Connect:
			pk.ConnectEncode(&b)
		case packets.Publish:
			pk.PublishEncode(&b)
		case packets.Subscribe:
			pk.FixedHeader.Qos = 1
			pk.SubscribeEncode(&b)
		case packets.Pubrel:
			pk.FixedHeader.Qos = 1
			pk.PubrelEncode(&b)
		case packets.Puback:
			pk.PubackEncode(&b)
		case packets.Disconnect:
			pk.DisconnectEncode(&b)
		case packets.Pingreq:
			pk.PingreqEncode(&b)
		}
		return b.Bytes()
	}
	conn := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	conn.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "fz", Clean: true, Keepalive: 30,
		WillFlag: true, WillTopic: "w", WillPayload: []byte("x"), WillQos: 1}
	conn.Properties.SessionExpiryInterval, conn.Properties.SessionExpiryIntervalFlag = 10, true
	pub := publishPk("fz/a", 2, 3, "payload")
	pub.Properties.User = []packets.UserProperty{{Key: "k", Val: "v"}}
	pub.Properties.TopicAlias, pub.Properties.TopicAliasFlag = 1, true
	pub.FixedHeader.Retain = true
	return [][]byte{
		enc(conn),
		enc(subscribePk(1, packets.Subscription{Filter: "fz/#", Qos: 2}, packets.Subscription{Filter: "$share/g/fz/+", Qos: 1})),
		enc(pub),
		enc(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: 3}),
		enc(publishPk("fz/b", 1, 4, "")),
		enc(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: 1}),
		enc(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}}),
		enc(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}}),
	}
}

// FuzzMQTTReadPacket feeds random and mutated bytes to the packet reader
// and decoder, before and after CONNECT, for both versions. Nothing may
// panic, and a packet is never bigger than the limit.
func FuzzMQTTReadPacket(f *testing.F) {
	for _, v := range []byte{4, 5} {
		for _, p := range seedPackets(v) {
			f.Add(v, p)
		}
	}
	f.Fuzz(func(t *testing.T, v byte, data []byte) {
		for _, connected := range []bool{false, true} {
			br := bufio.NewReader(bytes.NewReader(data))
			for range 64 {
				pk, err := readPacket(br, 4096, v, connected)
				if err != nil {
					break
				}
				if pk.FixedHeader.Remaining > 4096 {
					t.Fatalf("packet of %d bytes passed a 4096 limit", pk.FixedHeader.Remaining)
				}
			}
		}
	})
}

// FuzzMQTTConn feeds a CONNECT followed by random packets to a whole
// connection over a real broker: sessions, subscriptions, publishes and
// wills run. Nothing may panic or hang, and the connection always ends.
func FuzzMQTTConn(f *testing.F) {
	for _, v := range []byte{4, 5} {
		seeds := seedPackets(v)
		f.Add(bytes.Join(seeds, nil))
		for _, p := range seeds {
			f.Add(append(append([]byte(nil), seeds[0]...), p...))
		}
	}
	srv, err := server.New(server.Options{DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		f.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	srv.CreateStream(server.StreamConfig{Name: "fz", Subjects: []string{"fz.>"}})
	s := New(srv.Broker, Options{MaxPacketBytes: 64 << 10, ConnectTimeout: time.Second, WriteTimeout: time.Second})
	if err := s.init(); err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		c := s.serveConn(a)
		go io.Copy(io.Discard, b)
		b.SetWriteDeadline(time.Now().Add(time.Second))
		b.Write(data)
		b.Close()
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection did not end")
		}
	})
}
