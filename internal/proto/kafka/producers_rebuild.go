package kafka

import (
	"encoding/binary"
	"time"

	clog "github.com/courier-mq/courier/internal/log"
)

// rebuildWindow is how far back, in record time, a producer's state is
// rebuilt from the log when the first batch of a producer ID reaches a
// partition that has no state for it (after a restart, or after the
// state was pruned). It covers kgo's and Kafka's default delivery
// timeouts (2 minutes) with room to spare: a retry that spans a restart
// is then recognised, as Kafka recognises it from its producer snapshots.
const rebuildWindow = 10 * time.Minute

// rebuild fills a fresh state from the producer's batches stored in the
// partition within rebuildWindow. The stored batches keep the producer
// ID, epoch and base sequence the producer sent. Caller holds st.mu.
func (st *producerState) rebuild(b Backend, k producerKey) {
	if !st.fresh || st.rebuilt {
		return
	}
	st.rebuilt = true
	from, err := b.OffsetForTime(k.topic, int(k.part), time.Now().Add(-rebuildWindow).UnixMilli())
	if err != nil {
		return
	}
	var buf []byte
	for {
		c, err := b.ScanPartition(k.topic, int(k.part), buf, from, 1<<20)
		if err != nil || len(c.Data) == 0 {
			return
		}
		buf = c.Data[:0]
		st.replay(c.Data, k.id)
		from = c.Next
	}
}

// replay records every batch of producer id found in data, in order.
func (st *producerState) replay(data []byte, id int64) {
	be := binary.BigEndian
	for len(data) >= clog.BatchHeaderSize {
		n := int(int32(be.Uint32(data[clog.OffBatchLength:]))) + 12
		if n < clog.BatchHeaderSize || n > len(data) {
			return
		}
		if int64(be.Uint64(data[clog.OffProducerID:])) == id {
			count := int32(be.Uint32(data[clog.OffLastDelta:])) + 1
			st.record(int16(be.Uint16(data[clog.OffProducerEpoch:])), int32(be.Uint32(data[clog.OffBaseSequence:])), count,
				int64(be.Uint64(data[0:])), nil)
		}
		data = data[n:]
	}
}
