package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/meta"

	"github.com/courier-mq/courier/internal/subject"
)

func streamKey(name string) []byte { return meta.Key(meta.NSStream, name) }

// stream is a named set of partition logs capturing subject patterns.
// mu guards cfg and parts: publishers hold it shared, Update and Delete
// exclusively (Update reopens the logs with new options).
type stream struct {
	b     *Broker
	mu    sync.RWMutex
	cfg   StreamConfig
	parts []*partition
	ctr   streamCounters // traffic, for Stats (stats.go)
}

// StreamInfo describes a stream and its partitions.
type StreamInfo struct {
	Config     StreamConfig
	Partitions []PartitionInfo
}

// PartitionInfo gives one partition's offsets and size.
type PartitionInfo struct {
	Partition     int
	StartOffset   int64
	HighWatermark int64
	Messages      int64
	Bytes         int64
	Segments      int
}

// CreateStream creates a stream. Its subjects may not overlap another
// stream's.
func (b *Broker) CreateStream(cfg StreamConfig) (StreamInfo, error) {
	if err := cfg.normalize(); err != nil {
		return StreamInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return StreamInfo{}, ErrClosed
	}
	if b.streams[cfg.Name] != nil {
		return StreamInfo{}, fmt.Errorf("%w: %s", ErrStreamExists, cfg.Name)
	}
	if err := b.checkOverlap(cfg, ""); err != nil {
		return StreamInfo{}, err
	}
	if err := putJSON(b.kv, streamKey(cfg.Name), cfg); err != nil {
		return StreamInfo{}, err
	}
	s, err := b.openStream(cfg)
	if err != nil {
		b.kv.Delete(streamKey(cfg.Name))
		return StreamInfo{}, err
	}
	b.addStreamLocked(s)
	return s.info(), nil
}

// checkOverlap refuses subjects captured by a stream other than self.
// Caller holds b.mu.
func (b *Broker) checkOverlap(cfg StreamConfig, self string) error {
	for name, other := range b.streams {
		if name == self {
			continue
		}
		for _, p := range cfg.Subjects {
			for _, q := range other.cfg.Subjects {
				if subject.Overlaps(p, q) {
					return fmt.Errorf("%w: %q of stream %s overlaps %q of stream %s", ErrSubjectCaptured, p, cfg.Name, q, name)
				}
			}
		}
	}
	return nil
}

// addStreamLocked registers s. Caller holds b.mu.
func (b *Broker) addStreamLocked(s *stream) {
	b.streams[s.cfg.Name] = s
	for _, p := range s.cfg.Subjects {
		b.capture.Insert(p, s)
	}
	for sub := range b.subs {
		sub.streamAdded(s)
	}
}

func (b *Broker) openStream(cfg StreamConfig) (*stream, error) {
	s := &stream{b: b, cfg: cfg}
	for i := range cfg.Partitions {
		p, err := openPartition(s, i)
		if err != nil {
			s.close()
			return nil, err
		}
		s.parts = append(s.parts, p)
	}
	return s, nil
}

func (b *Broker) loadStreams() error {
	var cfgs []StreamConfig
	err := b.kv.Scan(meta.Prefix(meta.NSStream), func(_, v []byte) error {
		var c StreamConfig
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		cfgs = append(cfgs, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load streams: %w", err)
	}
	for _, c := range cfgs {
		s, err := b.openStream(c)
		if err != nil {
			return fmt.Errorf("open stream %s: %w", c.Name, err)
		}
		b.addStreamLocked(s)
	}
	return nil
}

func (s *stream) close() error {
	var errs []error
	for _, p := range s.parts {
		errs = append(errs, p.log.Close())
	}
	return errors.Join(errs...)
}

func (s *stream) info() StreamInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	in := StreamInfo{Config: s.cfg}
	for i, p := range s.parts {
		st := p.log.Stats()
		in.Partitions = append(in.Partitions, PartitionInfo{Partition: i, StartOffset: st.StartOffset,
			HighWatermark: st.HighWatermark, Messages: st.Records, Bytes: st.Bytes, Segments: st.Segments})
	}
	return in
}

func (s *stream) defaultTTL() time.Duration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg.DefaultTTL
}

// StreamInfo returns a stream's configuration and partition state.
func (b *Broker) StreamInfo(name string) (StreamInfo, error) {
	s, err := b.stream(name)
	if err != nil {
		return StreamInfo{}, err
	}
	return s.info(), nil
}

// Streams lists every stream, by name.
func (b *Broker) Streams() []StreamInfo {
	b.mu.RLock()
	list := make([]*stream, 0, len(b.streams))
	for _, s := range b.streams {
		list = append(list, s)
	}
	b.mu.RUnlock()
	out := make([]StreamInfo, 0, len(list))
	for _, s := range list {
		out = append(out, s.info())
	}
	sortInfos(out)
	return out
}

// UpdateStream changes a stream's subjects, limits and policies. The
// partition count may grow, never shrink. The logs are reopened with the
// new options.
func (b *Broker) UpdateStream(cfg StreamConfig) (StreamInfo, error) {
	if err := cfg.normalize(); err != nil {
		return StreamInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.streams[cfg.Name]
	if s == nil {
		return StreamInfo{}, fmt.Errorf("%w: %s", ErrStreamNotFound, cfg.Name)
	}
	if cfg.Partitions < len(s.parts) {
		return StreamInfo{}, invalid("partitions can only grow: %d to %d", len(s.parts), cfg.Partitions)
	}
	if err := b.checkOverlap(cfg, cfg.Name); err != nil {
		return StreamInfo{}, err
	}
	if err := putJSON(b.kv, streamKey(cfg.Name), cfg); err != nil {
		return StreamInfo{}, err
	}
	for _, p := range s.cfg.Subjects {
		b.capture.Remove(p, s)
	}
	err := s.reopen(cfg)
	for _, p := range s.cfg.Subjects {
		b.capture.Insert(p, s)
	}
	if err != nil {
		return StreamInfo{}, err
	}
	for _, g := range b.groups {
		if g.cfg.Stream == cfg.Name {
			g.grow(cfg.Partitions)
		}
	}
	return s.info(), nil
}

// reopen closes the partition logs and opens them with cfg's options.
func (s *stream) reopen(cfg StreamConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.parts
	s.cfg, s.parts = cfg, nil
	for _, p := range old {
		p.log.Close()
	}
	for i := range cfg.Partitions {
		p, err := openPartition(s, i)
		if err != nil {
			return err
		}
		s.parts = append(s.parts, p)
	}
	return nil
}

// DeleteStream removes a stream and its data. A stream with groups is
// refused: delete the groups first.
func (b *Broker) DeleteStream(name string) error {
	b.mu.Lock()
	s := b.streams[name]
	if s == nil {
		b.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrStreamNotFound, name)
	}
	for _, g := range b.groups {
		if g.cfg.Stream == name {
			b.mu.Unlock()
			return fmt.Errorf("%w: %s has group %s", ErrStreamHasGroups, name, g.cfg.Name)
		}
	}
	delete(b.streams, name)
	for _, p := range s.cfg.Subjects {
		b.capture.Remove(p, s)
	}
	subs := make([]*Subscription, 0, len(b.subs))
	for sub := range b.subs {
		subs = append(subs, sub)
	}
	b.mu.Unlock()
	for _, sub := range subs {
		sub.streamRemoved(s)
	}
	err := errors.Join(b.kv.Delete(streamKey(name)), s.close())
	return errors.Join(err, removeAll(b.opts.FS, b.streamDirRoot(name)))
}
