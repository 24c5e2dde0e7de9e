package broker

// PurgeOptions say what Purge removes: everything, or one partition's
// messages below an offset.
type PurgeOptions struct {
	All       bool
	Partition int
	UpTo      int64 // with !All: remove offsets below UpTo in Partition
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
	if o.Partition < 0 || o.Partition >= len(s.parts) {
		return invalid("stream %s has no partition %d", stream, o.Partition)
	}
	return s.parts[o.Partition].log.AdvanceStart(o.UpTo)
}
