package kafka

import (
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaFetchEmptyPartitionSarama: a partition with nothing to return
// (no new data, an unknown topic, data past the response's byte budget)
// comes back with an empty record set, as Kafka sends it, not a null one:
// sarama cannot decode a null record set ("invalid byteslice length"),
// drops the connection and backs off, which left consumer groups idle
// for seconds and churned connections.
func TestKafkaFetchEmptyPartitionSarama(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "fe", 3)
	pr := e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	big := make([]byte, 64<<10)
	for _, r := range []*kgo.Record{{Topic: "fe", Partition: 0, Value: big}, {Topic: "fe", Partition: 2, Value: big}} {
		if err := pr.ProduceSync(testCtx(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	b := sarama.NewBroker(e.addr)
	if err := b.Open(cfg); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	req := &sarama.FetchRequest{Version: 11, MaxWaitTime: 10, MinBytes: 1, MaxBytes: 32 << 10}
	req.AddBlock("fe", 0, 0, 1<<20, -1) // 0 and 2: the first in the response
	req.AddBlock("fe", 1, 0, 1<<20, -1) // comes whole, the other is past MaxBytes
	req.AddBlock("fe", 2, 0, 1<<20, -1) // 1 is empty
	req.AddBlock("nope", 0, 0, 1<<20, -1)
	resp, err := b.Fetch(req)
	if err != nil {
		t.Fatalf("sarama cannot decode the fetch response: %v", err)
	}
	sets := map[int32]int{}
	for _, p := range []int32{0, 1, 2} {
		blk := resp.GetBlock("fe", p)
		if blk == nil || blk.Err != sarama.ErrNoError {
			t.Fatalf("partition %d: %+v", p, blk)
		}
		sets[p] = len(blk.RecordsSet)
	}
	if sets[0]+sets[2] != 1 || sets[1] != 0 {
		t.Fatalf("record sets per partition %v, want one of 0 and 2 and none in 1", sets)
	}
	if blk := resp.GetBlock("nope", 0); blk == nil || blk.Err != sarama.ErrUnknownTopicOrPartition {
		t.Fatalf("unknown topic: %+v", blk)
	}
}
