package broker

import (
	"context"
	"fmt"

	"github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/subject"
)

// PurgeOptions say what Purge removes: everything, the messages of a
// subject (or pattern) in every partition, or one partition's messages
// below an offset.
type PurgeOptions struct {
	All       bool
	Subject   string
	Partition int
	UpTo      int64 // with !All and no Subject: remove offsets below UpTo in Partition
}

// Purge removes messages from the start of a stream's partitions. Offsets
// are not reused: a purged partition continues at its high watermark.
func (b *Broker) Purge(stream string, o PurgeOptions) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if o.All {
		for _, p := range s.parts {
			if err := p.log.AdvanceStart(p.log.HighWatermark()); err != nil {
				return err
			}
		}
		return nil
	}
	if o.Subject != "" {
		return s.purgeSubject(o.Subject)
	}
	if o.Partition < 0 || o.Partition >= len(s.parts) {
		return invalid("stream %s has no partition %d", stream, o.Partition)
	}
	return s.parts[o.Partition].log.AdvanceStart(o.UpTo)
}

// purgeSubject removes every stored message whose subject matches p.
// Caller holds s.mu shared.
func (s *stream) purgeSubject(p string) error {
	if err := subject.ValidatePattern(p); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for _, part := range s.parts {
		_, err := part.log.Remove(context.Background(), func(r *log.Record) bool {
			return subject.Match(p, recordSubject(r, s.cfg.Name))
		})
		if err != nil {
			return err
		}
		part.mu.Lock()
		for subj := range part.last {
			if subject.Match(p, subj) {
				delete(part.last, subj)
			}
		}
		part.mu.Unlock()
	}
	return nil
}

// Compact runs a compaction pass now on every partition of a compacted
// stream (the background cleaner otherwise runs on its own schedule), and
// returns how many records it removed.
func (b *Broker) Compact(ctx context.Context, stream string) (int64, error) {
	s, err := b.stream(stream)
	if err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.cfg.Compact {
		return 0, invalid("stream %s is not compacted", stream)
	}
	var removed int64
	for _, p := range s.parts {
		st, err := p.log.Compact(ctx)
		if err != nil {
			return removed, logError(err)
		}
		removed += st.RecordsRemoved
	}
	return removed, nil
}
