package mqtt

import (
	"bytes"
	"fmt"

	"github.com/mochi-mqtt/server/v2/packets"
)

// decodePacket decodes one packet's body with mochi's codec. The codec
// indexes past the end of some truncated packets, so a panic is turned
// into a malformed-packet error. version is 0 until CONNECT is read.
func decodePacket(fh packets.FixedHeader, body []byte, version byte) (pk *packets.Packet, err error) {
	pk = &packets.Packet{ProtocolVersion: version, FixedHeader: fh}
	pk.FixedHeader.Remaining = len(body)
	defer func() {
		if r := recover(); r != nil {
			err = &protoErr{code: packets.ErrMalformedPacket, err: fmt.Errorf("%s packet cut short", packets.PacketNames[fh.Type]), version: pk.ProtocolVersion}
			pk = nil
		}
	}()
	if err := decodeBody(pk, body); err != nil {
		return nil, &protoErr{code: codeOf(err, packets.ErrMalformedPacket), err: fmt.Errorf("%s: %w", packets.PacketNames[fh.Type], err), version: pk.ProtocolVersion}
	}
	return pk, nil
}

// decodeBody decodes the variable header and payload of client packets.
func decodeBody(pk *packets.Packet, b []byte) error {
	switch pk.FixedHeader.Type {
	case packets.Connect:
		return pk.ConnectDecode(b)
	case packets.Publish:
		return pk.PublishDecode(b)
	case packets.Puback:
		return pk.PubackDecode(b)
	case packets.Pubrec:
		return pk.PubrecDecode(b)
	case packets.Pubrel:
		return pk.PubrelDecode(b)
	case packets.Pubcomp:
		return pk.PubcompDecode(b)
	case packets.Subscribe:
		return pk.SubscribeDecode(b)
	case packets.Unsubscribe:
		return pk.UnsubscribeDecode(b)
	case packets.Pingreq:
		return nil
	case packets.Disconnect:
		return pk.DisconnectDecode(b)
	case packets.Auth:
		return &protoErr{code: packets.ErrBadAuthenticationMethod, err: fmt.Errorf("AUTH: extended authentication is not supported")}
	}
	return &protoErr{code: packets.ErrProtocolViolation, err: fmt.Errorf("packet type %d is not sent by clients", pk.FixedHeader.Type)}
}

// codeOf returns the reason code an error carries, or def.
func codeOf(err error, def packets.Code) packets.Code {
	switch e := err.(type) {
	case packets.Code:
		return e
	case *protoErr:
		return e.code
	}
	var c packets.Code
	if asCode(err, &c) {
		return c
	}
	return def
}

func asCode(err error, c *packets.Code) bool {
	for err != nil {
		if cc, ok := err.(packets.Code); ok {
			*c = cc
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// encode encodes a server packet.
func encode(pk *packets.Packet) []byte {
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	case packets.Pubrec:
		err = pk.PubrecEncode(&buf)
	case packets.Pubrel:
		err = pk.PubrelEncode(&buf)
	case packets.Pubcomp:
		err = pk.PubcompEncode(&buf)
	case packets.Suback:
		err = pk.SubackEncode(&buf)
	case packets.Unsuback:
		err = pk.UnsubackEncode(&buf)
	case packets.Pingresp:
		err = pk.PingrespEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	default:
		err = fmt.Errorf("cannot encode packet type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		panic(fmt.Sprintf("mqtt: encode %s: %v", packets.PacketNames[pk.FixedHeader.Type], err)) // a bug: servers build valid packets
	}
	return buf.Bytes()
}

// ack encodes a PUBACK, PUBREC, PUBREL or PUBCOMP.
func (c *conn) ack(typ byte, id uint16, code packets.Code, detail string) []byte {
	pk := &packets.Packet{ProtocolVersion: c.version, PacketID: id, ReasonCode: code.Code}
	pk.FixedHeader.Type = typ
	if typ == packets.Pubrel {
		pk.FixedHeader.Qos = 1
	}
	if c.version == 5 && code.Code >= 0x80 && !c.noProblems {
		pk.Properties.ReasonString = code.Reason
		if detail != "" {
			pk.Properties.ReasonString += ": " + detail
		}
	}
	return encode(pk)
}
