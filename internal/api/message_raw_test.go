package api

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// genBrokerMessage draws a broker message with any of its fields set.
func genBrokerMessage(rt *rapid.T) *broker.Message {
	m := &broker.Message{
		Subject:    rapid.SampledFrom([]string{"", "a.b", "orders.eu.created"}).Draw(rt, "subject"),
		Key:        rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(rt, "key"),
		Payload:    rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(rt, "payload"),
		ReplyTo:    rapid.StringN(0, 8, -1).Draw(rt, "reply"),
		ID:         rapid.StringN(0, 8, -1).Draw(rt, "id"),
		Stream:     rapid.StringN(0, 8, -1).Draw(rt, "stream"),
		Partition:  rapid.IntRange(-3, 1<<20).Draw(rt, "partition"),
		Offset:     rapid.Int64().Draw(rt, "offset"),
		Deliveries: rapid.IntRange(-1, 1<<20).Draw(rt, "deliveries"),
		TTL:        time.Duration(rapid.Int64Range(-5e9, 1e15).Draw(rt, "ttl")),
	}
	for range rapid.IntRange(0, 3).Draw(rt, "headers") {
		m.Headers = append(m.Headers, broker.Header{Key: rapid.StringN(0, 6, -1).Draw(rt, "hk"),
			Value: rapid.SliceOfN(rapid.Byte(), 0, 6).Draw(rt, "hv")})
	}
	at := func(name string) time.Time {
		if !rapid.Bool().Draw(rt, name) {
			return time.Time{}
		}
		return time.Unix(rapid.Int64Range(-1e10, 1e10).Draw(rt, name+"s"), rapid.Int64Range(0, 999_999_999).Draw(rt, name+"n"))
	}
	m.Time, m.DeliverAt = at("time"), at("deliverAt")
	return m
}

// What rawEncoder sends decodes to exactly what fromBroker and the
// generated encoder would have sent: deliveries one at a time and in
// batches, subscription messages and request answers; the JSON codec sends the same JSON
// as for the decoded message.
func TestRawEncodeMatchesFromBroker(t *testing.T) {
	var enc rawEncoder
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(rt, "n")
		var ds []*broker.Delivery
		var ids []uint64
		var want []*courierv1.Delivery
		for range n {
			d := &broker.Delivery{Message: *genBrokerMessage(rt)}
			id := rapid.Uint64Range(0, 1<<40).Draw(rt, "id")
			ds, ids = append(ds, d), append(ids, id)
			want = append(want, &courierv1.Delivery{DeliveryId: id, Message: fromBroker(&d.Message)})
		}
		wantRes := &courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Deliveries{Deliveries: &courierv1.Deliveries{Deliveries: want}}}
		if n == 1 {
			wantRes = &courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Delivery{Delivery: want[0]}}
		}
		checkRaw(rt, enc.deliveries(ids, ds), wantRes, &courierv1.ConsumeResponse{})
		checkRaw(rt, enc.subscribed(&ds[0].Message), &courierv1.SubscribeResponse{Message: want[0].Message}, &courierv1.SubscribeResponse{})
		checkRaw(rt, rawAnswer(ids[0], &ds[0].Message), &courierv1.RequestStreamResponse{Id: ids[0], Reply: want[0].Message}, &courierv1.RequestStreamResponse{})
	})
}

// checkRaw checks that raw (a response rawEncoder made) encodes as want
// in binary and in JSON.
func checkRaw(rt *rapid.T, raw, want, into proto.Message) {
	b, err := proto.Marshal(raw)
	if err != nil {
		rt.Fatal(err)
	}
	if err := proto.Unmarshal(b, into); err != nil {
		rt.Fatal(err)
	}
	if !proto.Equal(into, want) {
		rt.Fatalf("raw encoding decodes to\n%v\nwant\n%v", into, want)
	}
	js := codecs()[1]
	var got, exp bytes.Buffer
	if err := js.MarshalWrite(context.Background(), &got, raw); err != nil {
		rt.Fatal(err)
	}
	if err := js.MarshalWrite(context.Background(), &exp, want); err != nil {
		rt.Fatal(err)
	}
	if got.String() != exp.String() {
		rt.Fatalf("JSON of the raw response:\n%s\nwant\n%s", got.String(), exp.String())
	}
}
