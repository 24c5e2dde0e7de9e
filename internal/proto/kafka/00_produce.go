package kafka

// Produce, versions 3 to 12.
//
// Each partition's records must be exactly one RecordBatch v2 (checked as
// in batch.go); it is appended as sent, compressed or not, and the
// response carries its base offset and the log start offset. acks 1 and
// -1 both answer once the batch is durable (the broker syncs before it
// returns under the stream's default sync policy; there are no replicas);
// acks 0 sends no response, and closes the connection if a partition
// failed, as Kafka does, so that the client refreshes its metadata.
// Partitions of one request are appended in parallel. Batches with a
// producer ID go through the idempotence checks of producers.go.
//
// Not supported: transactions (a transactional ID gets
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED), topic IDs (v13), LogAppendTime.
// Codes: UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION,
// CORRUPT_MESSAGE (length, magic, CRC), INVALID_RECORD, MESSAGE_TOO_LARGE,
// UNSUPPORTED_COMPRESSION_TYPE, INVALID_TIMESTAMP, INVALID_REQUIRED_ACKS,
// OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, REQUEST_TIMED_OUT,
// POLICY_VIOLATION (a stream that refuses new messages when full),
// KAFKA_STORAGE_ERROR.

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleProduce(c *conn, req *kmsg.ProduceRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	ctx, cancel := c.ctx, context.CancelFunc(func() {})
	if req.TimeoutMillis > 0 {
		ctx, cancel = context.WithTimeout(c.ctx, time.Duration(req.TimeoutMillis)*time.Millisecond)
	}
	defer cancel()
	var wg sync.WaitGroup
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for i, rp := range rt.Partitions {
			out := &st.Partitions[i]
			*out = kmsg.NewProduceResponseTopicPartition()
			out.Partition = rp.Partition
			if code, msg := precheckProduce(req, rt.Topic); code != 0 {
				out.ErrorCode, out.ErrorMessage = code, &msg
				continue
			}
			wg.Go(func() { c.producePartition(ctx, rt.Topic, rp, out) })
		}
		resp.Topics = append(resp.Topics, st)
	}
	wg.Wait()
	if req.Acks == 0 {
		return nil, acksZeroResult(resp)
	}
	return resp, nil
}

// precheckProduce returns an error that applies to every partition of a
// topic in the request.
func precheckProduce(req *kmsg.ProduceRequest, topic string) (int16, string) {
	switch {
	case req.TransactionID != nil:
		return kerr.TransactionalIDAuthorizationFailed.Code, "transactions are not supported"
	case req.Acks != 0 && req.Acks != 1 && req.Acks != -1:
		return kerr.InvalidRequiredAcks.Code, "acks must be -1, 0 or 1"
	}
	if why := checkTopic(topic); why != "" {
		return kerr.InvalidTopicException.Code, why
	}
	return 0, ""
}

// acksZeroResult closes the connection if a partition failed.
func acksZeroResult(resp *kmsg.ProduceResponse) error {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return closeErr("acks=0 produce to %s[%d] failed: %s", t.Topic, p.Partition, kerr.ErrorForCode(p.ErrorCode))
			}
		}
	}
	return nil
}

// producePartition validates and appends one partition's batch.
func (c *conn) producePartition(ctx context.Context, topic string, rp kmsg.ProduceRequestTopicPartition, out *kmsg.ProduceResponseTopicPartition) {
	fail := func(code int16, msg string) { out.ErrorCode, out.ErrorMessage = code, &msg }
	start, _, err := c.s.b.PartitionOffsets(topic, int(rp.Partition))
	if err != nil {
		fail(kerr.UnknownTopicOrPartition.Code, err.Error())
		return
	}
	out.LogStartOffset = start
	info, berr := checkBatch(rp.Records)
	if berr != nil {
		fail(berr.code, berr.msg)
		return
	}
	if info.producerID < 0 {
		c.appendBatch(ctx, topic, rp, out)
		return
	}
	k := producerKey{id: info.producerID, topic: topic, part: rp.Partition}
	st := c.s.prod.lock(k)
	defer st.mu.Unlock()
	st.rebuild(c.s.b, k)
	dup, isDup, code := st.check(info.epoch, info.baseSeq, info.count)
	switch {
	case code != 0:
		fail(code, kerr.ErrorForCode(code).Error())
	case isDup:
		out.BaseOffset = dup
	case c.appendBatch(ctx, topic, rp, out):
		st.record(info.epoch, info.baseSeq, info.count, out.BaseOffset)
	}
}

// appendBatch stores the batch and reports whether it did.
func (c *conn) appendBatch(ctx context.Context, topic string, rp kmsg.ProduceRequestTopicPartition, out *kmsg.ProduceResponseTopicPartition) bool {
	off, err := c.s.b.AppendBatch(ctx, topic, int(rp.Partition), rp.Records)
	if err != nil {
		out.ErrorCode, out.ErrorMessage = errorCode(err), errMessage(err)
		return false
	}
	out.BaseOffset = off
	return true
}
