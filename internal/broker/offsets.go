package broker

import (
	"context"
	"fmt"

	"github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/subject"
)

// Offset-level access for front-ends whose clients address partitions and
// offsets themselves (Kafka). The stored batches are Kafka RecordBatch v2,
// so they pass through without re-encoding.

// Chunk is a read of stored batches; see log.Chunk.
type Chunk = log.Chunk

// partLogOf returns a stream partition's log.
func (b *Broker) partLogOf(stream string, part int) (*stream, *log.Log, error) {
	s, err := b.stream(stream)
	if err != nil {
		return nil, nil, err
	}
	l := s.partLog(part)
	if l == nil {
		return nil, nil, fmt.Errorf("%w: stream %s has no partition %d", ErrInvalid, stream, part)
	}
	return s, l, nil
}

// AppendBatch stores a RecordBatch v2 as it is (compressed or not) in a
// stream partition and returns its base offset once durable. A record's
// subject is the stream's name unless it carries a courier-subject header,
// which must name a subject this stream captures. The other courier-
// headers (message id, TTL, deliver-at, reply-to) are how a Kafka
// producer reaches those features, and take effect as if published.
func (b *Broker) AppendBatch(ctx context.Context, stream string, part int, batch []byte) (int64, error) {
	base, wait, err := b.AppendBatchAsync(stream, part, batch)
	if err != nil {
		return 0, err
	}
	return base, wait(ctx)
}

// AppendBatchAsync is AppendBatch in two halves, as PublishAsync: it
// returns once the batch has its offsets (batch is copied by then), with a
// wait function that returns once it is durable.
func (b *Broker) AppendBatchAsync(stream string, part int, batch []byte) (int64, func(context.Context) error, error) {
	s, err := b.stream(stream)
	if err != nil {
		return 0, nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if part < 0 || part >= len(s.parts) {
		return 0, nil, fmt.Errorf("%w: stream %s has no partition %d", ErrInvalid, stream, part)
	}
	p := s.parts[part]
	if len(batch) > s.cfg.MaxMsgSize+MaxHeaderBytes {
		return 0, nil, fmt.Errorf("%w: batch of %d bytes, stream %s allows %d per message", ErrTooLarge, len(batch), stream, s.cfg.MaxMsgSize)
	}
	if p.full() {
		return 0, nil, fmt.Errorf("%w: stream %s partition %d is at its limit", ErrStreamFull, stream, part)
	}
	subs, err := s.batchSubjects(batch)
	if err != nil {
		return 0, nil, err
	}
	off, wait, err := p.log.AppendBatchIfAsync(batch, func(base int64) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, sd := range subs {
			p.last[sd.subject] = base + sd.delta
		}
		return nil
	})
	if err != nil {
		return 0, nil, logError(err)
	}
	s.ctr.batchIn(batch)
	return off, func(ctx context.Context) error { return logError(wait(ctx)) }, nil
}

type subjectDelta struct {
	subject string
	delta   int64
}

// batchSubjects returns each record's subject and offset delta, checking
// that the stream captures them. Caller holds s.mu.
// The batch's CRC and framing are checked once, by the log's append;
// decoding here is bounds-checked, so a damaged batch only fails earlier.
func (s *stream) batchSubjects(batch []byte) ([]subjectDelta, error) {
	if len(batch) < log.BatchHeaderSize {
		return nil, fmt.Errorf("%w: batch of %d bytes", ErrInvalid, len(batch))
	}
	base := log.BatchBaseOffset(batch)
	var out []subjectDelta
	var bad error
	err := log.DecodeRecords(batch, base, func(r log.Record) bool {
		subj := recordSubject(&r, s.cfg.Name)
		if subj != s.cfg.Name && !captures(s.cfg.Subjects, subj) {
			bad = fmt.Errorf("%w: record subject %q is not captured by stream %s", ErrInvalid, subj, s.cfg.Name)
			return false
		}
		out = append(out, subjectDelta{subject: subj, delta: r.Offset - base})
		return true
	})
	if bad != nil {
		return nil, bad
	}
	return out, logError(err)
}

func captures(patterns []string, subj string) bool {
	if subject.ValidateSubject(subj) != nil {
		return false
	}
	for _, p := range patterns {
		if subject.Match(p, subj) {
			return true
		}
	}
	return false
}

// ReadPartition reads stored batches from offset, into buf when it is
// large enough (see log.ReadInto).
func (b *Broker) ReadPartition(stream string, part int, buf []byte, offset int64, maxBytes int) (Chunk, error) {
	s, l, err := b.partLogOf(stream, part)
	if err != nil {
		return Chunk{}, err
	}
	c, err := l.ReadInto(buf, offset, maxBytes)
	s.ctr.chunkOut(err, c.Data, offset)
	return c, logError(err)
}

// WaitPartition blocks until a record at offset or beyond is readable.
func (b *Broker) WaitPartition(ctx context.Context, stream string, part int, offset int64) error {
	_, l, err := b.partLogOf(stream, part)
	if err != nil {
		return err
	}
	return l.Wait(ctx, offset)
}

// PartitionOffsets returns a partition's start offset and high watermark.
func (b *Broker) PartitionOffsets(stream string, part int) (start, hw int64, err error) {
	_, l, err := b.partLogOf(stream, part)
	if err != nil {
		return 0, 0, err
	}
	return l.StartOffset(), l.HighWatermark(), nil
}

// OffsetForTime returns the first offset at or after ts (Unix ms) in a
// partition, or its high watermark.
func (b *Broker) OffsetForTime(stream string, part int, ts int64) (int64, error) {
	_, l, err := b.partLogOf(stream, part)
	if err != nil {
		return 0, err
	}
	return l.OffsetForTime(ts)
}
