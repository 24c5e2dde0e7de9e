package client

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// A lane encodes each publish into its batch as the message's own
// PublishRequest would encode (every field, options included), seals a
// batch at the batch size, and the batch decodes as a PublishStreamRequest
// and as a PublishBatchRequest.
func TestPublishAsyncEncodesAsPublishRequest(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 123456789, time.UTC)
	msgs := []*Message{
		{Subject: "ev.a", Payload: []byte("p")},
		{Subject: "ev.b", Key: []byte("k"), Headers: []Header{{"h", "v"}, {"bin", "\xff\xfe"}, {"h", "w"}},
			Time: at, ReplyTo: "in.x", ID: "id-1", TTL: 1500 * time.Millisecond, DeliverAt: at.Add(time.Hour)},
		{Subject: "ev.c"}, // after a message with every field: nothing is left over
		{Subject: "ev.d", Headers: []Header{{"one", "1"}}},
		{Subject: "ev.e", Payload: make([]byte, 300)},
	}
	opts := [][]PubOption{nil, {ExpectLastOffset(7), WithDelay(time.Second)}, nil, {ExpectLastSubjectOffset(-1)}, nil}
	l := &lane{}
	for i, m := range msgs {
		if _, _, err := l.add(m, opts[i], 2); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if len(l.ready) != 2 || len(l.open.futs) != 1 {
		t.Fatalf("%d sealed batches and %d open publishes, want 2 and 1", len(l.ready), len(l.open.futs))
	}
	batches := append(l.ready, l.open)
	i := 0
	for _, b := range batches {
		var sreq courierv1.PublishStreamRequest
		var breq courierv1.PublishBatchRequest
		if err := proto.Unmarshal(b.raw, &sreq); err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(b.raw, &breq); err != nil {
			t.Fatal(err)
		}
		wire, err := proto.Marshal(rawRequest(&courierv1.PublishStreamRequest{}, b.raw))
		if err != nil || string(wire) != string(b.raw) {
			t.Fatalf("the raw request marshals to %d bytes (%v), want its %d raw bytes", len(wire), err, len(b.raw))
		}
		for j, got := range sreq.Publishes {
			want := publishRequest(msgs[i], opts[i])
			if !proto.Equal(got, want) || !proto.Equal(breq.Publishes[j], want) {
				t.Fatalf("message %d encoded as %v, want %v", i, got, want)
			}
			i++
		}
	}
	if i != len(msgs) {
		t.Fatalf("%d publishes in the batches, want %d", i, len(msgs))
	}
}

// A batch is sealed before it would pass chunkBytes; a larger publish
// goes alone.
func TestPublishAsyncBatchesStayUnderChunkBytes(t *testing.T) {
	l := &lane{}
	sizes := []int{chunkBytes / 3, chunkBytes / 3, chunkBytes / 3, 10, chunkBytes + 10, 10}
	for i, n := range sizes {
		if _, _, err := l.add(&Message{Subject: "ev.x", Payload: make([]byte, n)}, nil, 1000); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	l.seal()
	var counts []int
	for _, b := range l.ready {
		counts = append(counts, len(b.futs))
		if len(b.raw) > chunkBytes && len(b.futs) > 1 {
			t.Fatalf("a batch of %d publishes takes %d bytes, bound %d", len(b.futs), len(b.raw), chunkBytes)
		}
	}
	if fmt.Sprint(counts) != "[2 2 1 1]" {
		t.Fatalf("batches of %v publishes, want [2 2 1 1]", counts)
	}
}

// A message protobuf cannot encode (a subject that is not UTF-8) fails
// alone with ErrInvalid; the others are stored in order.
func TestPublishAsyncUnencodableFailsAlone(t *testing.T) {
	e := newEnv(t, WithBatch(4, 0), WithLanes(1))
	e.stream(t, "ev", 1, "ev.>")
	var futures []*PubFuture
	for i := range 10 {
		subj := "ev.x"
		if i == 5 {
			subj = "ev.\xff"
		}
		futures = append(futures, e.c.PublishAsync(&Message{Subject: subj}))
	}
	if err := futures[5].Err(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the unencodable publish: %v, want ErrInvalid at once", err)
	}
	offset := int64(0)
	for i, f := range futures {
		if i == 5 {
			continue
		}
		if ack, err := f.Wait(ctxT(t)); err != nil || ack.Offset != offset {
			t.Fatalf("publish %d: %+v %v, want offset %d", i, ack, err, offset)
		}
		offset++
	}
}

// A future's channel, made on demand, is closed whether it is asked for
// before or after the future resolves.
func TestPubFutureDoneBeforeAndAfter(t *testing.T) {
	var before PubFuture
	done := before.Done()
	before.resolve(PubAck{Offset: 3}, nil)
	<-done
	after := failedFuture(ErrClosed)
	<-after.Done()
	if ack, err := before.Wait(ctxT(t)); err != nil || ack.Offset != 3 {
		t.Fatalf("before: %+v %v", ack, err)
	}
	if err := after.Err(); !errors.Is(err, ErrClosed) {
		t.Fatalf("after: %v", err)
	}
}

// A message (and its payload) may be reused as soon as PublishAsync
// returns: what is stored is what it held then.
func TestPublishAsyncMessageReusable(t *testing.T) {
	e := newEnv(t, WithBatch(8, 0), WithLanes(1))
	e.stream(t, "ev", 1, "ev.>")
	m := &Message{Subject: "ev.x", Payload: make([]byte, 4)}
	var futures []*PubFuture
	for i := range 20 {
		copy(m.Payload, fmt.Sprintf("%04d", i))
		futures = append(futures, e.c.PublishAsync(m))
	}
	for i, f := range futures {
		if _, err := f.Wait(ctxT(t)); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	got, _, err := e.c.ReadMessages(ctxT(t), "ev", 0, 0, 20)
	if err != nil || len(got) != 20 {
		t.Fatalf("read %d messages (%v), want 20", len(got), err)
	}
	for i, g := range got {
		if want := fmt.Sprintf("%04d", i); string(g.Payload) != want {
			t.Fatalf("offset %d holds %q, want %q", i, g.Payload, want)
		}
	}
}
