package kafka

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaFetchEncodeMatchesKmsg checks encodeFetch against kmsg's
// encoding (the naive model) for every supported version, with record
// data small enough to be copied and large enough to be its own piece,
// null and empty data, errors, and fields encodeFetch leaves to kmsg.
func TestKafkaFetchEncodeMatchesKmsg(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for v := int16(4); v <= 12; v++ {
		for _, shape := range []string{"empty", "mixed", "aborted", "tagged"} {
			t.Run(fmt.Sprintf("v%d/%s", v, shape), func(t *testing.T) {
				r := kmsg.NewPtrFetchResponse()
				r.Version, r.ThrottleMillis, r.ErrorCode, r.SessionID = v, 7, 0, 0
				if shape != "empty" {
					r.Topics = fetchTopics(data)
				}
				switch shape {
				case "aborted":
					r.Topics[0].Partitions[0].AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 3, FirstOffset: 9}}
				case "tagged":
					r.Topics[1].Partitions[0].CurrentLeader.LeaderID = 0
				}
				want := encodeResponse(int16(kmsg.Fetch), 42, r)
				got := encodeFetch(42, r, nil)
				if joined := bytes.Join(got, nil); !bytes.Equal(joined, want) {
					t.Fatalf("encodeFetch differs from kmsg: %d bytes in %d pieces, want %d bytes", len(joined), len(got), len(want))
				}
				if shape == "mixed" && len(got) < 3 {
					t.Fatalf("large record data was copied: %d pieces", len(got))
				}
			})
		}
	}
}

func fetchTopics(data func(int) []byte) []kmsg.FetchResponseTopic {
	var ts []kmsg.FetchResponseTopic
	for ti, sizes := range [][]int{{0, 100, inlineBatches + 1}, {-1, 1 << 20, inlineBatches, 5}} {
		t := kmsg.NewFetchResponseTopic()
		t.Topic = fmt.Sprintf("topic-%d", ti)
		for pi, n := range sizes {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition, p.HighWatermark, p.LastStableOffset, p.LogStartOffset = int32(pi), 1000+int64(pi), 999, 3
			if n >= 0 {
				p.RecordBatches = data(n)
			}
			if pi == 1 {
				p.ErrorCode = 1
			}
			t.Partitions = append(t.Partitions, p)
		}
		ts = append(ts, t)
	}
	return ts
}

// BenchmarkKafkaFetchEncode frames a Fetch response of one partition with
// 1 MiB of record data: with kmsg (a copy into one buffer) and with
// encodeFetch (pieces for writev, the data not copied).
func BenchmarkKafkaFetchEncode(b *testing.B) {
	r := kmsg.NewPtrFetchResponse()
	r.Version = 12
	t := kmsg.NewFetchResponseTopic()
	t.Topic = "bench"
	p := kmsg.NewFetchResponseTopicPartition()
	p.RecordBatches = make([]byte, 1<<20)
	t.Partitions = append(t.Partitions, p)
	r.Topics = append(r.Topics, t)
	b.Run("kmsg", func(b *testing.B) {
		b.SetBytes(1 << 20)
		for b.Loop() {
			encodeResponse(int16(kmsg.Fetch), 1, r)
		}
	})
	b.Run("writev", func(b *testing.B) {
		b.SetBytes(1 << 20)
		for b.Loop() {
			encodeFetch(1, r, nil)
		}
	})
}
