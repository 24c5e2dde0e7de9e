package broker

import (
	"context"
	"fmt"

	"github.com/courier-mq/courier/internal/log"
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
// stream partition and returns its base offset once durable. Its records
// have no subject header: their subject is the stream's name.
func (b *Broker) AppendBatch(ctx context.Context, stream string, part int, batch []byte) (int64, error) {
	s, err := b.stream(stream)
	if err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if part < 0 || part >= len(s.parts) {
		return 0, fmt.Errorf("%w: stream %s has no partition %d", ErrInvalid, stream, part)
	}
	p := s.parts[part]
	if len(batch) > s.cfg.MaxMsgSize+MaxHeaderBytes {
		return 0, fmt.Errorf("%w: batch of %d bytes, stream %s allows %d per message", ErrTooLarge, len(batch), stream, s.cfg.MaxMsgSize)
	}
	if p.full() {
		return 0, fmt.Errorf("%w: stream %s partition %d is at its limit", ErrStreamFull, stream, part)
	}
	off, err := p.log.AppendBatch(ctx, batch)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return off, nil
}

// ReadPartition reads stored batches from offset, into buf when it is
// large enough (see log.ReadInto).
func (b *Broker) ReadPartition(stream string, part int, buf []byte, offset int64, maxBytes int) (Chunk, error) {
	_, l, err := b.partLogOf(stream, part)
	if err != nil {
		return Chunk{}, err
	}
	return l.ReadInto(buf, offset, maxBytes)
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
