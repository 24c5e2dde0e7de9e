package broker

import (
	"reflect"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

// chunkMessages encodes messages as two stored batches, as a group's
// reader reads them.
func chunkMessages(t *testing.T) []byte {
	t.Helper()
	at := time.UnixMilli(1_700_000_000_123)
	ms := []Message{
		{Subject: "orders.a", Payload: []byte("one"), Time: at},
		{Subject: "orders.a", Key: []byte("k1"), Payload: []byte("two"), Time: at},
		{Subject: "orders.b", Key: []byte{}, Payload: nil, Time: at, Headers: []Header{{Key: "x", Value: []byte("1")}, {Key: "y"}}},
		{Subject: "orders.b", Payload: []byte("four"), Time: at, ID: "id-4", ReplyTo: "inbox.4", TTL: time.Minute,
			DeliverAt: at.Add(time.Hour)},
	}
	var data []byte
	for i, part := range [][]Message{ms[:2], ms[2:]} {
		var recs []log.Record
		for _, m := range part {
			recs = append(recs, m.toRecord())
		}
		recs = append(recs, log.Record{Value: []byte("kafka"), Timestamp: at.UnixMilli()}) // no subject header
		b := log.EncodeBatch(nil, recs, at.UnixMilli())
		setBase(b, int64(3*i))
		data = append(data, b...)
	}
	return data
}

// setBase writes a batch's base offset, as the log does on append.
func setBase(b []byte, base int64) {
	for i := range 8 {
		b[log.OffBaseOffset+i] = byte(base >> (56 - 8*i))
	}
}

// TestGroupChunkViewMatchesCopy checks that the messages a group's reader
// admits from a chunk (aliasing it) equal those fromRecord copies out,
// from every offset.
func TestGroupChunkViewMatchesCopy(t *testing.T) {
	data := chunkMessages(t)
	for from := int64(0); from <= 6; from++ {
		var want []*Message
		err := log.DecodeRecords(data, from, func(r log.Record) bool {
			want = append(want, fromRecord(&r, "ORDERS", 2))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := chunkView(data, from, "ORDERS", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("from %d: %d messages, want %d", from, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("from %d, message %d:\n got %+v\nwant %+v", from, i, got[i], want[i])
			}
		}
	}
}

// TestGroupChunkViewDetach checks that admitted messages alias their
// chunk and that a detached one does not.
func TestGroupChunkViewDetach(t *testing.T) {
	data := chunkMessages(t)
	msgs, err := chunkView(data, 0, "ORDERS", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[3] // an empty key, headers, no payload
	d := m.detach()
	if !reflect.DeepEqual(d, m) {
		t.Fatalf("detached %+v, want %+v", d, m)
	}
	for i := range data {
		data[i] = '#'
	}
	if string(m.Headers[0].Value) != "#" {
		t.Errorf("an admitted message's header does not alias its chunk: %q", m.Headers[0].Value)
	}
	if string(d.Headers[0].Value) != "1" || d.Key == nil || len(d.Key) != 0 || d.Payload != nil {
		t.Errorf("a detached message changed with its chunk: %+v", d)
	}
	if string(msgs[1].Payload) == "two" || string(msgs[1].Payload) != "###" {
		t.Errorf("an admitted payload does not alias its chunk: %q", msgs[1].Payload)
	}
}
