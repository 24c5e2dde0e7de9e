package broker

import (
	"context"
	"errors"
	"hash/fnv"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/vfs"
)

// partition is one log of a stream, with the state that publishing
// checks: the last offset of each subject (for expectations) and the
// de-duplication window. Both are rebuilt from the log at open.
type partition struct {
	s   *stream
	idx int
	log *log.Log

	mu     sync.Mutex // guards the fields below; taken inside log.AppendIf's check
	last   map[string]int64
	dedup  map[string]int64 // message id → offset
	dedupQ []dedupEntry     // in publish order, for expiry
}

type dedupEntry struct {
	id string
	at time.Time
}

func openPartition(s *stream, i int) (*partition, error) {
	l, err := log.Open(s.b.streamDir(s.cfg.Name, i), s.cfg.logOptions(s.b.opts.Log))
	if err != nil {
		return nil, err
	}
	p := &partition{s: s, idx: i, log: l, last: map[string]int64{}, dedup: map[string]int64{}}
	if err := p.rebuild(); err != nil {
		l.Close()
		return nil, err
	}
	return p, nil
}

// rebuild scans the log for each subject's last offset and for message ids
// inside the de-duplication window.
func (p *partition) rebuild() error {
	horizon := time.Now().Add(-p.s.cfg.DedupWindow).UnixMilli()
	return scanLog(p.log, p.log.StartOffset(), func(r *log.Record) {
		p.last[recordSubject(r, p.s.cfg.Name)] = r.Offset
		if id, ok := recordHeader(r, HdrMsgID); ok && r.Timestamp >= horizon {
			p.dedup[string(id)] = r.Offset
			p.dedupQ = append(p.dedupQ, dedupEntry{id: string(id), at: time.UnixMilli(r.Timestamp)})
		}
	})
}

// scanLog calls fn for every record from offset to the high watermark.
func scanLog(l *log.Log, from int64, fn func(*log.Record)) error {
	for off := from; ; {
		c, err := l.Read(off, 1<<20)
		if err != nil {
			return err
		}
		if len(c.Data) == 0 {
			return nil
		}
		if err := log.DecodeRecords(c.Data, off, func(r log.Record) bool { fn(&r); return true }); err != nil {
			return err
		}
		off = c.Next
	}
}

// partitionFor picks a partition: by key (Kafka's murmur2, so Kafka
// producers and Courier agree), else by subject.
func (s *stream) partitionFor(m *Message) int {
	n := len(s.parts)
	if n == 1 {
		return 0
	}
	if m.Key != nil {
		return int(murmur2(m.Key)&0x7fffffff) % n
	}
	h := fnv.New32a()
	h.Write([]byte(m.Subject))
	return int(h.Sum32() % uint32(n))
}

// murmur2 is Kafka's default partitioner hash.
func murmur2(data []byte) uint32 {
	const seed, m, r = uint32(0x9747b28c), uint32(0x5bd1e995), 24
	h := seed ^ uint32(len(data))
	for len(data) >= 4 {
		k := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h = h*m ^ k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

var errDuplicate = errors.New("duplicate")

// Expect holds a publish's optional expectations. Offsets are -1 for
// "nothing yet".
type Expect struct {
	LastOffset        *int64 // of the partition the message goes to
	LastSubjectOffset *int64 // of the message's subject
}

// PubAck is a publish's acknowledgement.
type PubAck struct {
	Stream    string
	Partition int
	Offset    int64
	Duplicate bool // the id was seen within the window: not stored again
}

// append gives m its offset, checking expectations and duplicates
// atomically with the offset assignment, and returns how to wait for it
// to be durable.
func (p *partition) append(m *Message, exp Expect) (func(context.Context) (PubAck, error), error) {
	ack := PubAck{Stream: p.s.cfg.Name, Partition: p.idx}
	dup := int64(-1)
	rec := m.toRecord()
	off, wait, err := p.log.AppendIfAsync([]log.Record{rec}, func(base int64) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if o, ok := p.seen(m.ID, m.Time); ok {
			dup = o
			return errDuplicate
		}
		if err := p.expect(m.Subject, base, exp); err != nil {
			return err
		}
		p.last[m.Subject] = base
		if m.ID != "" {
			p.dedup[m.ID] = base
			p.dedupQ = append(p.dedupQ, dedupEntry{id: m.ID, at: m.Time})
		}
		return nil
	})
	if errors.Is(err, errDuplicate) {
		// The original may still be on its way to disk: ack once it is.
		ack.Offset, ack.Duplicate = dup, true
		return func(ctx context.Context) (PubAck, error) { return ack, logError(p.log.Wait(ctx, dup)) }, nil
	}
	if err != nil {
		return nil, logError(err)
	}
	ack.Offset = off
	p.s.ctr.addIn(1, int64(msgSize(m)))
	return func(ctx context.Context) (PubAck, error) { return ack, logError(wait(ctx)) }, nil
}

// seen reports a message id inside the window, expiring older ids.
// Caller holds p.mu.
func (p *partition) seen(id string, now time.Time) (int64, bool) {
	horizon := now.Add(-p.s.cfg.DedupWindow)
	for len(p.dedupQ) > 0 && p.dedupQ[0].at.Before(horizon) {
		delete(p.dedup, p.dedupQ[0].id)
		p.dedupQ = p.dedupQ[1:]
	}
	if id == "" {
		return 0, false
	}
	o, ok := p.dedup[id]
	return o, ok
}

// expect checks expectations against the offset the message would get.
// Caller holds p.mu.
func (p *partition) expect(subj string, base int64, exp Expect) error {
	if exp.LastOffset != nil && *exp.LastOffset != base-1 {
		return &WrongLastOffsetError{Expected: *exp.LastOffset, Actual: base - 1}
	}
	if exp.LastSubjectOffset != nil {
		last, ok := p.last[subj]
		if !ok {
			last = -1
		}
		if last != *exp.LastSubjectOffset {
			return &WrongLastOffsetError{Subject: subj, Expected: *exp.LastSubjectOffset, Actual: last}
		}
	}
	return nil
}

// full reports whether a DiscardNew stream's partition is at a limit.
func (p *partition) full() bool {
	c := p.s.cfg
	if c.Discard != DiscardNew || (c.MaxMsgs == 0 && c.MaxBytes == 0) {
		return false
	}
	st := p.log.Stats()
	return (c.MaxMsgs > 0 && st.Records >= c.MaxMsgs) || (c.MaxBytes > 0 && st.Bytes >= c.MaxBytes)
}

func (b *Broker) streamDirRoot(name string) string { return filepath.Join(b.opts.Dir, "streams", name) }

// removeAll removes a directory tree through the vfs.
func removeAll(fs vfs.FS, dir string) error {
	names, err := fs.List(dir)
	if vfs.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := fs.Stat(p); err == nil && st.IsDir() {
			if err := removeAll(fs, p); err != nil {
				return err
			}
			continue
		}
		if err := fs.Remove(p); err != nil {
			return err
		}
	}
	return fs.Remove(dir)
}

func sortInfos(in []StreamInfo) {
	sort.Slice(in, func(i, j int) bool { return in[i].Config.Name < in[j].Config.Name })
}
