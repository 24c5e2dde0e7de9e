package client

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"connectrpc.com/connect/v2/connectproto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"pgregory.net/rapid"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// throughCodec encodes res and decodes it with the client's binary codec,
// which keeps deliveries and subscription messages raw.
func throughCodec[T proto.Message](t interface{ Fatal(...any) }, res T, into T) T {
	b, err := proto.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := (binaryCodec{connectproto.NewBinaryCodec()}).UnmarshalRead(context.Background(), bytes.NewBuffer(b), into); err != nil {
		t.Fatal(err)
	}
	return into
}

// genMessage draws a message with any of its fields set.
func genMessage(rt *rapid.T) *courierv1.Message {
	m := &courierv1.Message{
		Subject:    rapid.SampledFrom([]string{"", "a.b", "orders.eu.created"}).Draw(rt, "subject"),
		Key:        rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(rt, "key"),
		Payload:    rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(rt, "payload"),
		ReplyTo:    rapid.StringN(0, 8, -1).Draw(rt, "reply"),
		Id:         rapid.StringN(0, 8, -1).Draw(rt, "id"),
		Stream:     rapid.SampledFrom([]string{"", "S", "orders"}).Draw(rt, "stream"),
		Partition:  rapid.Int32().Draw(rt, "partition"),
		Offset:     rapid.Int64().Draw(rt, "offset"),
		Deliveries: rapid.Int32().Draw(rt, "deliveries"),
	}
	for range rapid.IntRange(0, 3).Draw(rt, "headers") {
		h := &courierv1.Header{Key: rapid.StringN(0, 6, -1).Draw(rt, "hk")}
		if rapid.Bool().Draw(rt, "binary") {
			h.BinaryValue = rapid.SliceOfN(rapid.Byte(), 1, 6).Draw(rt, "hb")
		} else {
			h.Value = rapid.StringN(0, 6, -1).Draw(rt, "hv")
		}
		m.Headers = append(m.Headers, h)
	}
	ts := func(name string) *timestamppb.Timestamp {
		if !rapid.Bool().Draw(rt, name) {
			return nil
		}
		return &timestamppb.Timestamp{Seconds: rapid.Int64Range(-1e10, 1e10).Draw(rt, name+"s"),
			Nanos: rapid.Int32Range(0, 999_999_999).Draw(rt, name+"n")}
	}
	m.Time, m.DeliverAt = ts("time"), ts("deliverAt")
	if rapid.Bool().Draw(rt, "ttl") {
		m.Ttl = &durationpb.Duration{Seconds: rapid.Int64Range(-1e6, 1e6).Draw(rt, "ttls"), Nanos: rapid.Int32Range(0, 999_999_999).Draw(rt, "ttln")}
	}
	return m
}

// The raw decoder gives exactly what the generic decoder and
// messageFromProto give, for deliveries one at a time, in batches, for
// subscription messages and for request answers.
func TestRawDecodeMatchesProtobuf(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var pds []*courierv1.Delivery
		for range rapid.IntRange(1, 4).Draw(rt, "n") {
			pds = append(pds, &courierv1.Delivery{DeliveryId: rapid.Uint64().Draw(rt, "id"), Message: genMessage(rt)})
		}
		res := &courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Deliveries{Deliveries: &courierv1.Deliveries{Deliveries: pds}}}
		if len(pds) == 1 && rapid.Bool().Draw(rt, "single") {
			res = &courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Delivery{Delivery: pds[0]}}
		}
		b, _ := proto.Marshal(res)
		var generic courierv1.ConsumeResponse // as the generic decoder gives it
		if err := proto.Unmarshal(b, &generic); err != nil {
			rt.Fatal(err)
		}
		k := &Consumer{}
		decoded := generic.GetDeliveries().GetDeliveries()
		if d := generic.GetDelivery(); d != nil {
			decoded = []*courierv1.Delivery{d}
		}
		want := fromProto(k, decoded...)
		var dec msgDecoder
		got, raw, err := dec.deliveries(throughCodec(rt, res, &courierv1.ConsumeResponse{}), k)
		if err != nil || !raw {
			rt.Fatalf("raw %v, err %v", raw, err)
		}
		if len(got) != len(want) {
			rt.Fatalf("%d deliveries, want %d", len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i].Message, want[i].Message) || got[i].id != want[i].id || got[i].k != k {
				rt.Fatalf("delivery %d:\n got %+v\nwant %+v", i, got[i].Message, want[i].Message)
			}
		}
		sub := throughCodec(rt, &courierv1.SubscribeResponse{Message: pds[0].GetMessage()}, &courierv1.SubscribeResponse{})
		m, err := dec.subscribed(sub)
		if err != nil || !reflect.DeepEqual(*m, want[0].Message) {
			rt.Fatalf("subscribed %+v, %v; want %+v", m, err, want[0].Message)
		}
		ans := throughCodec(rt, &courierv1.RequestStreamResponse{Id: 9, Reply: pds[0].GetMessage()}, &courierv1.RequestStreamResponse{})
		id, reply, failed, err := dec.answer(ans)
		if err != nil || id != 9 || failed != nil || !reflect.DeepEqual(*reply, want[0].Message) {
			rt.Fatalf("answer %d %+v %v %v; want 9 %+v", id, reply, failed, err, want[0].Message)
		}
	})
}

// Answers other than deliveries are decoded in place, as the generic
// decoder would; a subscription answer without a message is nil; a
// request answer carries its error.
func TestRawDecodeOtherAnswers(t *testing.T) {
	var dec msgDecoder
	joined := throughCodec(t, &courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Joined{Joined: &courierv1.Joined{MaxInFlight: 7}}}, &courierv1.ConsumeResponse{})
	if ds, raw, err := dec.deliveries(joined, nil); ds != nil || raw || err != nil || joined.GetJoined().GetMaxInFlight() != 7 {
		t.Fatalf("joined: %v %v %v %v", ds, raw, err, joined)
	}
	batch := &courierv1.SettledBatch{Settled: []*courierv1.Settled{{DeliveryId: 1}, {DeliveryId: 2, Error: &courierv1.Error{Reason: "already_settled"}}}}
	settled := throughCodec(t, &courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_SettledBatch{SettledBatch: batch}}, &courierv1.ConsumeResponse{})
	if _, raw, err := dec.deliveries(settled, nil); raw || err != nil || !proto.Equal(settled.GetSettledBatch(), batch) {
		t.Fatalf("settled: %v %v %v", raw, err, settled)
	}
	if m, err := dec.subscribed(throughCodec(t, &courierv1.SubscribeResponse{}, &courierv1.SubscribeResponse{})); m != nil || err != nil {
		t.Fatalf("empty subscription answer: %v %v", m, err)
	}
	refusal := &courierv1.Error{Reason: "no_responders", Message: "no_responders: nobody"}
	ans := throughCodec(t, &courierv1.RequestStreamResponse{Id: 4, Error: refusal}, &courierv1.RequestStreamResponse{})
	if id, reply, failed, err := dec.answer(ans); id != 4 || reply != nil || !proto.Equal(failed, refusal) || err != nil {
		t.Fatalf("failed request's answer: %d %v %v %v", id, reply, failed, err)
	}
}

// Payloads alias the answer's bytes; strings repeated from message to
// message are made once.
func TestRawDecodeAliasesAndReuses(t *testing.T) {
	pds := []*courierv1.Delivery{
		{DeliveryId: 1, Message: &courierv1.Message{Subject: "a.b", Stream: "S", Payload: []byte("one")}},
		{DeliveryId: 2, Message: &courierv1.Message{Subject: "a.b", Stream: "S", Payload: []byte("two")}},
	}
	res := throughCodec(t, &courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Deliveries{Deliveries: &courierv1.Deliveries{Deliveries: pds}}}, &courierv1.ConsumeResponse{})
	raw := rawOf(res)
	var dec msgDecoder
	ds, _, err := dec.deliveries(res, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if i := bytes.Index(raw, d.Payload); i < 0 || &raw[i] != &d.Payload[0] {
			t.Fatalf("payload %q does not alias the answer", d.Payload)
		}
		if cap(d.Payload) != len(d.Payload) {
			t.Fatalf("payload %q can grow into the answer (cap %d)", d.Payload, cap(d.Payload))
		}
	}
	if unsafe.StringData(ds[0].Subject) != unsafe.StringData(ds[1].Subject) || unsafe.StringData(ds[0].Stream) != unsafe.StringData(ds[1].Stream) {
		t.Fatal("repeated subject or stream made twice")
	}
}

// Bytes that do not decode, or a known field of the wrong wire type, are
// an error, not a panic or a wrong message.
func TestRawDecodeRefusesMalformed(t *testing.T) {
	good, _ := proto.Marshal(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Delivery{Delivery: &courierv1.Delivery{
		DeliveryId: 3, Message: &courierv1.Message{Subject: "a", Payload: []byte("p")}}}})
	wrongType := protowire.AppendTag(nil, 2, protowire.BytesType)
	msg := protowire.AppendTag(nil, 2, protowire.BytesType)                                                        // Delivery.message
	msg = protowire.AppendBytes(msg, protowire.AppendVarint(protowire.AppendTag(nil, 4, protowire.VarintType), 1)) // payload as a varint
	wrongType = protowire.AppendBytes(wrongType, msg)
	for name, b := range map[string][]byte{
		"truncated":  good[:len(good)-1],
		"wrong type": wrongType,
	} {
		res := &courierv1.ConsumeResponse{}
		res.ProtoReflect().SetUnknown(b)
		var dec msgDecoder
		if _, _, err := dec.deliveries(res, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzRawDecode: any bytes decode or fail cleanly, and what decodes
// aliases the answer's bytes only.
func FuzzRawDecode(f *testing.F) {
	seed, _ := proto.Marshal(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Deliveries{Deliveries: &courierv1.Deliveries{
		Deliveries: []*courierv1.Delivery{{DeliveryId: 1, Message: &courierv1.Message{Subject: "a", Payload: []byte("x"),
			Headers: []*courierv1.Header{{Key: "k", BinaryValue: []byte{0}}}, Time: timestamppb.New(time.Unix(5, 6))}}}}}})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		raw := bytes.Clone(b)
		res := &courierv1.ConsumeResponse{}
		res.ProtoReflect().SetUnknown(raw)
		var dec msgDecoder
		ds, _, err := dec.deliveries(res, nil)
		if err != nil {
			return
		}
		inside := func(p []byte) bool {
			return len(p) == 0 || uintptr(unsafe.Pointer(&p[0])) >= uintptr(unsafe.Pointer(&raw[0])) &&
				uintptr(unsafe.Pointer(&p[len(p)-1])) <= uintptr(unsafe.Pointer(&raw[len(raw)-1]))
		}
		for _, d := range ds {
			if !inside(d.Payload) || !inside(d.Key) {
				t.Fatalf("delivery %d: payload or key outside the answer", d.id)
			}
		}
	})
}
