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

// TestGroupChunkDetachesItsLastEntries checks the pinning rule: a chunk's
// entries alias it until no more than 1/detachRatio of them are left
// unfinished, and those then hold their own bytes.
func TestGroupChunkDetachesItsLastEntries(t *testing.T) {
	const n = 2 * detachRatio
	var recs []log.Record
	for i := range n {
		m := Message{Subject: "s", Payload: []byte{byte('a' + i)}, Time: time.UnixMilli(1)}
		recs = append(recs, m.toRecord())
	}
	data := log.EncodeBatch(nil, recs, 1)
	msgs, err := chunkView(data, 0, "S", 0)
	if err != nil || len(msgs) != n {
		t.Fatalf("%d messages (%v)", len(msgs), err)
	}
	ch := &chunkRef{}
	es := make([]*entry, n)
	for i, m := range msgs {
		es[i] = &entry{msg: m}
		ch.pinLocked(es[i])
	}
	detachLocked(es[0]) // held a while: detached on its own
	if !es[0].detached || es[0].chunk != nil || ch.live != n-1 {
		t.Fatalf("a detached entry still pins its chunk (live %d)", ch.live)
	}
	for _, e := range es[1 : n-3] { // n-4 finish: 3 left, more than 1/detachRatio
		unpinLocked(e)
	}
	if es[n-1].detached || es[n-1].chunk != ch {
		t.Fatal("entries detached while more than 1/detachRatio of the chunk is unfinished")
	}
	unpinLocked(es[n-3]) // 2 left: 1/detachRatio
	for _, e := range es[n-2:] {
		if !e.detached || e.chunk != nil {
			t.Fatalf("entry %d still pins its chunk with %d of %d left", e.msg.Offset, 2, n)
		}
	}
	for i := range data {
		data[i] = 0
	}
	for i, e := range []*entry{es[0], es[n-2], es[n-1]} {
		if want := []byte{byte('a' + []int{0, n - 2, n - 1}[i])}; string(e.msg.Payload) != string(want) {
			t.Errorf("detached entry %d: payload %q, want %q", e.msg.Offset, e.msg.Payload, want)
		}
	}
}
