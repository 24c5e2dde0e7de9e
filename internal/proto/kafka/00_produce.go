package kafka

// Produce, versions 3 to 12.
//
// Each partition's records must be exactly one RecordBatch v2 (checked as
// in batch.go); it is appended as sent, compressed or not, and the
// response carries its base offset and the log start offset. Batches with
// a producer ID go through the idempotence checks of producers.go.
//
// Pipelining: the reader validates each partition's batch and has the
// broker assign its offsets (AppendBatchAsync), partition after partition,
// in the order requests arrive, and goes on to the next request; the
// writer waits for the batches to be durable and answers in request order
// (conn_write.go). So a producer with several requests in flight gets them
// stored in order and shares fsyncs between them. A connection has at
// most outboundQueue requests in flight before its reader stops reading.
//
// acks: -1 (all) and 1 (leader) both answer once the batch is durable
// under the stream's sync policy (fsync before the answer by default).
// With one broker and no replicas the leader's write is the only copy,
// so acks=1 waits for what acks=-1 waits for; it does not answer before
// the fsync as a Kafka leader (which never fsyncs by default) would.
// acks 0 sends no response, and closes the connection if a partition
// failed, as Kafka does, so that the client refreshes its metadata: at
// once for a refused batch, or once a write fails. TimeoutMillis bounds
// the wait for durability (REQUEST_TIMED_OUT; the batch may still be
// stored, and an idempotent retry of it is then answered as a duplicate).
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
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleProduce(c *conn, req *kmsg.ProduceRequest) (kmsg.Response, error) {
	p := &producing{ProduceResponse: req.ResponseKind().(*kmsg.ProduceResponse), ctx: c.ctx, cancel: func() {}, acks: req.Acks}
	if req.TimeoutMillis > 0 {
		p.ctx, p.cancel = context.WithTimeout(c.ctx, time.Duration(req.TimeoutMillis)*time.Millisecond)
	}
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
			if w := c.producePartition(rt.Topic, rp, out); w.wait != nil {
				p.waits = append(p.waits, w)
			}
		}
		p.Topics = append(p.Topics, st)
	}
	if req.Acks == 0 {
		if err := acksZeroResult(p.ProduceResponse); err != nil {
			p.cancel()
			return nil, err
		}
	}
	return p, nil
}

// producing is a Produce whose batches have their offsets: finish waits
// until they are durable (deferred, in conn.go).
type producing struct {
	*kmsg.ProduceResponse
	ctx    context.Context
	cancel context.CancelFunc
	acks   int16
	waits  []partWait
}

// partWait is one appended partition: how to wait for its batch, where
// its answer goes, and what to undo if the write fails.
type partWait struct {
	wait   func(context.Context) error
	out    *kmsg.ProduceResponseTopicPartition
	failed func() // nil, or undoes the producer state's record of the batch
}

func (p *producing) finish() (kmsg.Response, error) {
	defer p.cancel()
	for _, w := range p.waits {
		err := w.wait(p.ctx)
		if err == nil {
			continue
		}
		w.out.ErrorCode, w.out.ErrorMessage = errorCode(err), errMessage(err)
		w.out.BaseOffset = -1
		if w.failed != nil && p.ctx.Err() == nil {
			w.failed() // not stored: its retry must be accepted
		}
	}
	if p.acks == 0 {
		return nil, acksZeroResult(p.ProduceResponse)
	}
	return p.ProduceResponse, nil
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

// producePartition validates one partition's batch and has its offsets
// assigned. The returned wait is nil when the batch was refused (the
// answer is in out already).
func (c *conn) producePartition(topic string, rp kmsg.ProduceRequestTopicPartition, out *kmsg.ProduceResponseTopicPartition) partWait {
	fail := func(code int16, msg string) partWait {
		out.ErrorCode, out.ErrorMessage = code, &msg
		return partWait{}
	}
	start, _, err := c.s.b.PartitionOffsets(topic, int(rp.Partition))
	if err != nil {
		return fail(kerr.UnknownTopicOrPartition.Code, err.Error())
	}
	out.LogStartOffset = start
	info, berr := checkBatch(rp.Records)
	if berr != nil {
		return fail(berr.code, berr.msg)
	}
	if info.producerID < 0 {
		return partWait{wait: c.appendBatch(topic, rp, out), out: out}
	}
	k := producerKey{id: info.producerID, topic: topic, part: rp.Partition}
	st := c.s.prod.lock(k)
	defer st.mu.Unlock()
	st.rebuild(c.s.b, k)
	dup, code := st.check(info.epoch, info.baseSeq, info.count)
	switch {
	case code != 0:
		return fail(code, kerr.ErrorForCode(code).Error())
	case dup != nil: // answered once the original is durable
		out.BaseOffset = dup.offset
		return partWait{wait: dup.durable(), out: out}
	}
	wait := c.appendBatch(topic, rp, out)
	if wait == nil {
		return partWait{}
	}
	sent := st.record(info.epoch, info.baseSeq, info.count, out.BaseOffset, wait)
	return partWait{wait: wait, out: out, failed: func() { st.forget(sent) }}
}

// appendBatch has the batch's offsets assigned and returns how to wait
// for it to be durable, or nil if it was refused.
func (c *conn) appendBatch(topic string, rp kmsg.ProduceRequestTopicPartition, out *kmsg.ProduceResponseTopicPartition) func(context.Context) error {
	off, wait, err := c.s.b.AppendBatchAsync(topic, int(rp.Partition), rp.Records)
	if err != nil {
		out.ErrorCode, out.ErrorMessage = errorCode(err), errMessage(err)
		return nil
	}
	out.BaseOffset = off
	return wait
}
