package broker

import (
	"encoding/binary"
	"fmt"

	"github.com/courier-mq/courier/internal/meta"
)

// Offsets committed by client-managed groups: consumers that track their
// own positions and commit them (Kafka consumer groups). The broker stores
// them durably per group, stream and partition (meta's commit namespace),
// so that they survive restarts and the group's lag can be reported.

// Commit is one committed offset.
type Commit struct {
	Group     string
	Stream    string
	Partition int
	Offset    int64
	Metadata  string
}

func commitKey(group, stream string, part int) []byte {
	return meta.Key(meta.NSCommit, group, stream, part)
}

// CommitOffsets stores commits durably, all or none, in one write.
func (b *Broker) CommitOffsets(cs []Commit) error {
	ops := make([]meta.Op, 0, len(cs))
	for _, c := range cs {
		if c.Group == "" || len(c.Group) > 255 {
			return invalid("group name of %d bytes", len(c.Group))
		}
		v := binary.AppendVarint(nil, c.Offset)
		ops = append(ops, meta.SetOp(commitKey(c.Group, c.Stream, c.Partition), append(v, c.Metadata...)))
	}
	if err := b.kv.Apply(ops...); err != nil {
		return fmt.Errorf("%w: commit: %w", ErrStorage, err)
	}
	return nil
}

// DeleteCommit removes one partition's commit.
func (b *Broker) DeleteCommit(group, stream string, part int) error {
	return b.kv.Delete(commitKey(group, stream, part))
}

// Committed returns a group's commits, for one stream or all ("").
func (b *Broker) Committed(group, stream string) ([]Commit, error) {
	prefix := meta.Prefix(meta.NSCommit, group)
	if stream != "" {
		prefix = meta.Prefix(meta.NSCommit, group, stream)
	}
	var out []Commit
	err := b.kv.Scan(prefix, func(k, v []byte) error {
		_, parts, err := meta.DecodeKey(k)
		if err != nil || len(parts) != 3 {
			return fmt.Errorf("bad commit key %q: %v", k, err)
		}
		off, n := binary.Varint(v)
		if n <= 0 {
			return fmt.Errorf("bad commit value for %q", k)
		}
		s, _ := parts[1].(string)
		p, _ := parts[2].(int64)
		out = append(out, Commit{Group: group, Stream: s, Partition: int(p), Offset: off, Metadata: string(v[n:])})
		return nil
	})
	return out, err
}

// DeleteCommits removes a group's commits, for one stream or all ("").
func (b *Broker) DeleteCommits(group, stream string) error {
	prefix := meta.Prefix(meta.NSCommit, group)
	if stream != "" {
		prefix = meta.Prefix(meta.NSCommit, group, stream)
	}
	return b.kv.DeletePrefix(prefix)
}

// CommitGroups lists the groups that have commits.
func (b *Broker) CommitGroups() ([]string, error) {
	var out []string
	err := b.kv.Scan(meta.Prefix(meta.NSCommit), func(k, _ []byte) error {
		_, parts, err := meta.DecodeKey(k)
		if err != nil || len(parts) == 0 {
			return fmt.Errorf("bad commit key %q: %v", k, err)
		}
		if g, _ := parts[0].(string); len(out) == 0 || out[len(out)-1] != g {
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

// CommitLag returns, per partition of a stream, how far a group's commit
// is behind the high watermark (the whole partition when nothing is
// committed).
func (b *Broker) CommitLag(group, stream string) (map[int]int64, error) {
	s, err := b.stream(stream)
	if err != nil {
		return nil, err
	}
	cs, err := b.Committed(group, stream)
	if err != nil {
		return nil, err
	}
	at := map[int]int64{}
	for _, c := range cs {
		at[c.Partition] = c.Offset
	}
	lag := map[int]int64{}
	for i := range len(s.info().Partitions) {
		l := s.partLog(i)
		if l == nil {
			continue
		}
		from, ok := at[i]
		if !ok {
			from = l.StartOffset()
		}
		lag[i] = max(0, l.HighWatermark()-from)
	}
	return lag, nil
}
