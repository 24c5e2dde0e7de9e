package kafka

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaFetchEncodePieces checks encodeFetch with record data in
// several pieces (small ones copied, large ones their own) against kmsg's
// encoding of the same response with each partition's data joined, for
// every supported version, also when the response goes through kmsg.
func TestKafkaFetchEncodePieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	piece := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for v := int16(4); v <= 12; v++ {
		for _, viaKmsg := range []bool{false, true} {
			t.Run(fmt.Sprintf("v%d/kmsg=%v", v, viaKmsg), func(t *testing.T) {
				data := []fetchData{
					{piece(100), piece(inlineBatches + 1), piece(5), piece(2 * inlineBatches)},
					nil,
					{piece(inlineBatches + 7)},
					{piece(3), piece(4)},
				}
				r := kmsg.NewPtrFetchResponse()
				r.Version = v
				ft := kmsg.NewFetchResponseTopic()
				ft.Topic = "pieces"
				for i, d := range data {
					p := kmsg.NewFetchResponseTopicPartition()
					p.Partition, p.HighWatermark = int32(i), 10*int64(i)
					p.RecordBatches = d.first()
					ft.Partitions = append(ft.Partitions, p)
				}
				r.Topics = append(r.Topics, ft)
				if viaKmsg {
					r.Topics[0].Partitions[1].CurrentLeader.LeaderID = 0 // a tagged field: kmsg encodes it
				}
				want := r.Topics[0]
				want.Partitions = append([]kmsg.FetchResponseTopicPartition(nil), want.Partitions...)
				for i, d := range data {
					if d != nil {
						want.Partitions[i].RecordBatches = bytes.Join(d, nil)
					}
				}
				wr := *r
				wr.Topics = []kmsg.FetchResponseTopic{want}
				wantBytes := encodeResponse(int16(kmsg.Fetch), 9, &wr)
				got := bytes.Join(encodeFetch(9, r, data), nil)
				if !bytes.Equal(got, wantBytes) {
					t.Fatalf("encodeFetch with pieces differs from kmsg: %d bytes, want %d", len(got), len(wantBytes))
				}
			})
		}
	}
}

// TestKafkaFetchChunkedReads checks the Fetch handler reading a partition
// in several reads (readChunk smaller than a batch, than two, and larger
// than everything) against a naive model (modelFetch) framed by kmsg; with
// one read it is every whole batch that fits the partition's max bytes
// (at least one). Every supported version, several
// offsets (a batch start, inside a batch) and max bytes that end inside a
// batch (the partial batch is left out).
func TestKafkaFetchChunkedReads(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "chunks", 1)
	ctx := testCtx(t)
	cl := e.client(t, kgo.DefaultProduceTopic("chunks"), kgo.DisableIdempotentWrite(), kgo.ProducerBatchCompression(kgo.NoCompression()))
	for i := range 12 { // 12 batches of 1 to 3 records of various sizes
		var recs []*kgo.Record
		for j := range 1 + i%3 {
			recs = append(recs, &kgo.Record{Value: bytes.Repeat([]byte{byte(i)}, 300+700*((i+j)%4))})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	all, err := e.srv.ReadPartition("chunks", 0, nil, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	batches := splitBatches(t, all.Data)
	c := newConn(e.k, nil)
	defer c.cancel()
	for _, chunk := range []int{1, 5000, 1 << 30} {
		e.k.readChunk = chunk
		for v := int16(4); v <= 12; v++ {
			for _, off := range []int64{0, 1, 7, all.Next - 1} {
				for _, maxBytes := range []int32{1, 2000, 6000, 9999, 1 << 20} {
					name := fmt.Sprintf("chunk=%d/v%d/offset=%d/max=%d", chunk, v, off, maxBytes)
					checkChunkedFetch(t, c, name, v, off, maxBytes, batches, all.Next)
				}
			}
		}
	}
}

// checkChunkedFetch serves one fetch and compares its frame with the
// model's.
func checkChunkedFetch(t *testing.T, c *conn, name string, v int16, off int64, maxBytes int32, batches [][]byte, hw int64) {
	t.Helper()
	req := fetchReq("chunks", off, 0, 1)
	req.Version = v
	req.Topics[0].Partitions[0].PartitionMaxBytes = maxBytes
	resp, err := handleFetch(c, req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	r := resp.(*kmsg.FetchResponse)
	got := bytes.Join(encodeFetch(5, r, c.fetchData), nil)
	c.takeReadBufs()()

	model := kmsg.NewPtrFetchResponse()
	model.Version = v
	mt := kmsg.NewFetchResponseTopic()
	mt.Topic = "chunks"
	mp := kmsg.NewFetchResponseTopicPartition()
	mp.HighWatermark, mp.LastStableOffset, mp.LogStartOffset = hw, hw, 0
	mp.RecordBatches = modelFetch(batches, off, int(maxBytes), c.s.readChunk)
	mt.Partitions = []kmsg.FetchResponseTopicPartition{mp}
	model.Topics = []kmsg.FetchResponseTopic{mt}
	want := encodeResponse(int16(kmsg.Fetch), 5, model)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: frame of %d bytes (data %d), model %d bytes (data %d)", name, len(got),
			len(r.Topics[0].Partitions[0].RecordBatches), len(want), len(mp.RecordBatches))
	}
}

// modelFetch is the naive model: from the batch holding off, reads as
// the log makes them (at least one whole batch, then whole ones within
// the bytes asked for) of at most chunk bytes, while the room left is at
// least the largest batch so far, keeping what fits maxBytes (the first
// read whatever its size).
func modelFetch(batches [][]byte, off int64, maxBytes, chunk int) []byte {
	i := 0
	for i < len(batches) && lastOffset(batches[i]) < off {
		i++
	}
	var out []byte
	largest := 0
	for i < len(batches) {
		room := maxBytes - len(out)
		if len(out) > 0 && (room <= 0 || room < largest) {
			break
		}
		want := max(min(chunk, room), 1)
		read, n := batches[i], 1
		for i+n < len(batches) && len(read)+len(batches[i+n]) <= want {
			read = append(append([]byte(nil), read...), batches[i+n]...)
			n++
		}
		if len(out) > 0 && len(out)+len(read) > maxBytes {
			break
		}
		out = append(out, read...)
		for _, b := range batches[i : i+n] {
			largest = max(largest, len(b))
		}
		i += n
	}
	return out
}

func lastOffset(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b)) + int64(int32(binary.BigEndian.Uint32(b[23:])))
}

// splitBatches cuts stored record data into its batches.
func splitBatches(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(data) > 0 {
		n := int(int32(binary.BigEndian.Uint32(data[8:]))) + 12
		if n < 61 || n > len(data) {
			t.Fatalf("batch of %d bytes in %d", n, len(data))
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}
