package client

import (
	"bytes"
	"context"
	"testing"

	"connectrpc.com/connect/v2/connectproto"
	"google.golang.org/protobuf/proto"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Answers kept raw by the codec decode, into reused messages, to the
// results protobuf decodes, with nothing left over from the answer
// before; bytes that do not decode are an error.
func TestPublishStreamAnswerDecodesAsProtobuf(t *testing.T) {
	answers := []*courierv1.PublishStreamResponse{
		{Results: []*courierv1.PublishResult{
			{Ack: &courierv1.PublishResponse{Stream: "s", Partition: 2, Offset: 7, Duplicate: true}},
			{Error: &courierv1.Error{Reason: "invalid_argument", Message: "bad"}},
			{Ack: &courierv1.PublishResponse{Stream: "s", Offset: 8}},
		}},
		{Results: []*courierv1.PublishResult{
			{Error: &courierv1.Error{Reason: "stream_full"}},
			{Ack: &courierv1.PublishResponse{}},
		}},
		{},
	}
	codec := binaryCodec{connectproto.NewBinaryCodec()}
	var dec resultDecoder
	for i, want := range answers {
		wire, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var got courierv1.PublishStreamResponse
		if err := codec.UnmarshalRead(context.Background(), bytes.NewBuffer(wire), &got); err != nil {
			t.Fatal(err)
		}
		results, err := dec.results(&got)
		if err != nil || len(results) != len(want.Results) {
			t.Fatalf("answer %d: %d results (%v), want %d", i, len(results), err, len(want.Results))
		}
		for j, r := range results {
			if !proto.Equal(r, want.Results[j]) {
				t.Fatalf("answer %d result %d decoded as %v, want %v", i, j, r, want.Results[j])
			}
		}
	}
	var bad courierv1.PublishStreamResponse
	bad.ProtoReflect().SetUnknown([]byte{0x0a, 0x09, 0x0a})
	if _, err := dec.results(&bad); err == nil {
		t.Fatal("a cut result decoded")
	}
}
