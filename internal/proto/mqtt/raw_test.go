package mqtt

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// rawClient speaks MQTT over a socket with mochi's codec, for what the
// paho clients will not send.
type rawClient struct {
	t       *testing.T
	nc      net.Conn
	br      *bufio.Reader
	version byte
}

func (e *testEnv) raw(t *testing.T, version byte) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc), version: version}
}

func (r *rawClient) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

func (r *rawClient) send(pk *packets.Packet) {
	r.t.Helper()
	pk.ProtocolVersion = r.version
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	case packets.Pubrec:
		err = pk.PubrecEncode(&buf)
	case packets.Pubrel:
		pk.FixedHeader.Qos = 1
		err = pk.PubrelEncode(&buf)
	case packets.Pubcomp:
		err = pk.PubcompEncode(&buf)
	case packets.Subscribe:
		pk.FixedHeader.Qos = 1
		err = pk.SubscribeEncode(&buf)
	case packets.Pingreq:
		err = pk.PingreqEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	}
	if err != nil {
		r.t.Fatalf("encode: %v", err)
	}
	r.write(buf.Bytes())
}

// read reads the next server packet.
func (r *rawClient) read() *packets.Packet {
	r.t.Helper()
	pk, err := r.next(5 * time.Second)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return pk
}

func (r *rawClient) next(d time.Duration) (*packets.Packet, error) {
	r.nc.SetReadDeadline(time.Now().Add(d))
	b0, err := r.br.ReadByte()
	if err != nil {
		return nil, err
	}
	n, _, err := packets.DecodeLength(r.br)
	if err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.br, body); err != nil {
		return nil, err
	}
	pk := &packets.Packet{ProtocolVersion: r.version}
	if err := pk.FixedHeader.Decode(b0); err != nil {
		return nil, err
	}
	pk.FixedHeader.Remaining = n
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback, packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		err = pk.PubackDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Unsuback:
		err = pk.UnsubackDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	}
	return pk, err
}

// expectClosed reads until the server closes the connection, and returns
// the packets read before.
func (r *rawClient) expectClosed() []*packets.Packet {
	r.t.Helper()
	var got []*packets.Packet
	for range 1000 {
		pk, err := r.next(5 * time.Second)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				r.t.Fatalf("connection still open after %d packets", len(got))
			}
			return got
		}
		got = append(got, pk)
	}
	r.t.Fatal("too many packets")
	return nil
}

func (r *rawClient) connect(id string, clean bool, keepAlive uint16) *packets.Packet {
	r.t.Helper()
	pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}}
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: clean, Keepalive: keepAlive}
	r.send(pk)
	ack := r.read()
	if ack.FixedHeader.Type != packets.Connack {
		r.t.Fatalf("got %s, want CONNACK", packets.PacketNames[ack.FixedHeader.Type])
	}
	return ack
}

func publishPk(topic string, qos byte, id uint16, payload string) *packets.Packet {
	return &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, TopicName: topic, PacketID: id, Payload: []byte(payload)}
}

func subscribePk(id uint16, filters ...packets.Subscription) *packets.Packet {
	return &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: id, Filters: filters}
}
