package api

import (
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Publishes decoded one after another into reused messages keep nothing
// of the one before (headers, id, reply subject, TTL, key); a field the
// server does not know is skipped; a PublishStreamRequest sent as JSON is
// stored alike.
func TestAPIPublishStreamRawDecodeKeepsNothingBetween(t *testing.T) {
	cases := append(protocols[:len(protocols):len(protocols)],
		protocol{name: "json", opts: []connecthttp.Option{connecthttp.WithSendCodec(connect.CodecNameJSON)}})
	for _, p := range cases {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			mc, _ := p.clients(e)
			e.createStream(t, "orders", "orders.>")
			st, err := mc.PublishStream(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			full := pub("orders.eu", "full")
			full.Message.Key, full.Message.Id, full.Message.ReplyTo = []byte("k"), "id-1", "inbox.x"
			full.Message.Headers = []*courierv1.Header{{Key: "h", Value: "v"}}
			full.Message.Ttl = durationpb.New(time.Minute)
			req := &courierv1.PublishStreamRequest{Publishes: []*courierv1.PublishRequest{full, pub("orders.us", "bare")}}
			req.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7))
			if err := st.Send(req); err != nil {
				t.Fatal(err)
			}
			res, err := st.Receive()
			if err != nil || len(res.Results) != 2 || res.Results[1].GetAck() == nil {
				t.Fatalf("answer %v, %v", res, err)
			}
			msgs, _, err := e.srv.ReadMessages("orders", 0, 0, 2)
			if err != nil || len(msgs) != 2 {
				t.Fatalf("stored %d (%v), want 2", len(msgs), err)
			}
			f, b := msgs[0], msgs[1]
			if string(f.Key) != "k" || f.ID != "id-1" || f.ReplyTo != "inbox.x" || len(f.Headers) != 1 || f.TTL != time.Minute {
				t.Fatalf("the full message was stored as %+v", f)
			}
			if string(b.Payload) != "bare" || b.Subject != "orders.us" || b.Key != nil || b.ID != "" || b.ReplyTo != "" || len(b.Headers) != 0 || b.TTL != 0 {
				t.Fatalf("the bare message was stored as %+v", b)
			}
		})
	}
}

// Bytes that do not decode as a PublishStreamRequest end the stream with
// invalid_argument after the batches before them were answered, and store
// nothing of their batch.
func TestAPIPublishStreamMalformedRequest(t *testing.T) {
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	e.createStream(t, "orders", "orders.>")
	st, err := mc.PublishStream(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ok := &courierv1.PublishStreamRequest{Publishes: []*courierv1.PublishRequest{pub("orders.eu", "a")}}
	bad := &courierv1.PublishStreamRequest{Publishes: []*courierv1.PublishRequest{pub("orders.eu", "b")}}
	bad.ProtoReflect().SetUnknown([]byte{0x0a, 0x05, 0x01}) // a publish of 5 bytes, cut at 1
	for _, req := range []*courierv1.PublishStreamRequest{ok, bad} {
		if err := st.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Receive()
	if err != nil || res.Results[0].GetAck().GetOffset() != 0 {
		t.Fatalf("first answer: %v, %v", res, err)
	}
	if _, err := st.Receive(); err == nil || !strings.Contains(err.Error(), "invalid_argument") {
		t.Fatalf("after a malformed batch: %v, want invalid_argument", err)
	}
	if msgs, _, err := e.srv.ReadMessages("orders", 0, 0, 10); err != nil || len(msgs) != 1 {
		t.Fatalf("stored %d (%v), want only the first batch's message", len(msgs), err)
	}
}

// The fast decoding of common publishes gives what google.golang.org/
// protobuf gives, and leaves every other publish (other fields, a field
// twice, invalid UTF-8) to it.
func TestAPIPublishRawFastDecodeMatchesProto(t *testing.T) {
	msg := func(subject, payload string) *courierv1.Message {
		return &courierv1.Message{Subject: subject, Payload: []byte(payload)}
	}
	full := msg("orders.eu", "p")
	full.Key, full.ReplyTo, full.Id = []byte("k"), "inbox.1", "id-1"
	withHeader := msg("orders.eu", "p")
	withHeader.Headers = []*courierv1.Header{{Key: "h", Value: "v"}}
	cases := []struct {
		name string
		pr   *courierv1.PublishRequest
		fast bool
	}{
		{"subject and payload", &courierv1.PublishRequest{Message: msg("orders.eu", "hello")}, true},
		{"same subject again", &courierv1.PublishRequest{Message: msg("orders.eu", "again")}, true},
		{"key, reply, id", &courierv1.PublishRequest{Message: full}, true},
		{"empty payload", &courierv1.PublishRequest{Message: msg("orders.us", "")}, true},
		{"headers", &courierv1.PublishRequest{Message: withHeader}, false},
		{"delay", &courierv1.PublishRequest{Message: msg("a", "b"), Delay: durationpb.New(time.Second)}, false},
		{"expectation", &courierv1.PublishRequest{Message: msg("a", "b"), ExpectLastOffset: new(int64)}, false},
		{"no message", &courierv1.PublishRequest{}, false},
	}
	var d rawDecoder
	for _, c := range cases {
		b, err := proto.Marshal(c.pr)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.fast(b); got != c.fast {
			t.Errorf("%s: fast %v, want %v", c.name, got, c.fast)
		}
		checkDecode(t, &d, c.name, b)
	}
	twice := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "a")
	twice = protowire.AppendString(protowire.AppendTag(twice, 1, protowire.BytesType), "b")
	badUTF8 := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "a\xff")
	for name, m := range map[string][]byte{"subject twice": twice, "invalid UTF-8": badUTF8} {
		b := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), m)
		if d.fast(b) {
			t.Errorf("%s: decoded fast", name)
		}
		checkDecode(t, &d, name, b)
	}
}

// checkDecode decodes publish b with next and compares the result with
// google.golang.org/protobuf's (both failing counts as equal).
func checkDecode(t *testing.T, d *rawDecoder, name string, b []byte) {
	t.Helper()
	var want courierv1.PublishRequest
	werr := proto.Unmarshal(b, &want)
	raw := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), b)
	got, _, err := d.next(raw)
	switch {
	case (err != nil) != (werr != nil):
		t.Errorf("%s: error %v, protobuf's %v", name, err, werr)
	case err == nil && !proto.Equal(got, &want):
		t.Errorf("%s: decoded %v, protobuf %v", name, got, &want)
	}
}

// The raw pool lends copies, takes back only what it lent (once), and a
// stored request's buffer goes back to it.
func TestAPIPublishRawPoolLends(t *testing.T) {
	p := rawPool{out: map[*byte]*[]byte{}}
	src := []byte("publishes")
	c := p.clone(src)
	if string(c) != "publishes" || &c[0] == &src[0] {
		t.Fatalf("clone %q aliases its source or differs", c)
	}
	p.release(src) // not lent: left alone
	if len(p.out) != 1 {
		t.Fatalf("%d lent after releasing a foreign buffer, want 1", len(p.out))
	}
	p.release(c)
	p.release(c)
	if len(p.out) != 0 {
		t.Fatalf("%d lent after the release, want 0", len(p.out))
	}
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	e.createStream(t, "orders", "orders.>")
	st, err := mc.PublishStream(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 3 {
		if err := st.Send(&courierv1.PublishStreamRequest{Publishes: []*courierv1.PublishRequest{pub("orders.eu", "a"), pub("orders.eu", "b")}}); err != nil {
			t.Fatal(err)
		}
		if res, err := st.Receive(); err != nil || len(res.Results) != 2 {
			t.Fatalf("batch %d: %v, %v", i, res, err)
		}
	}
	raws.mu.Lock()
	lent := len(raws.out)
	raws.mu.Unlock()
	if lent != 0 {
		t.Fatalf("%d raw requests still lent after every batch was answered", lent)
	}
	msgs, _, err := e.srv.ReadMessages("orders", 0, 0, 10)
	if err != nil || len(msgs) != 6 || string(msgs[4].Payload) != "a" || string(msgs[5].Payload) != "b" {
		t.Fatalf("stored %d (%v)", len(msgs), err)
	}
}

// Raw requests left queued when a stream's handler ends are given back to
// the pool, not kept by it.
func TestAPIPublishRawReleasedWhenAbandoned(t *testing.T) {
	e := startEnv(t, Options{})
	h := &messaging{s: e.api}
	lent := func() int {
		raws.mu.Lock()
		defer raws.mu.Unlock()
		return len(raws.out)
	}
	before := lent()
	reqs := make(chan decoded, 3)
	for range 3 {
		req := &courierv1.PublishStreamRequest{}
		req.ProtoReflect().SetUnknown(raws.clone([]byte{0x0a, 0x00}))
		reqs <- decoded{req: req}
	}
	close(reqs)
	stop := make(chan struct{})
	close(stop) // the handler has ended
	h.storeStream(reqs, make(chan streamBatch, 3), stop, nil)
	if n := lent(); n != before {
		t.Fatalf("%d raw requests still lent after the store side gave up, want %d", n, before)
	}
}
