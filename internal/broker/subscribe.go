package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/subject"
)

// Subscription receives every message matching its pattern, without a
// group (broadcast). Messages of subjects that a stream captures are read
// from the stream's logs, from the start position and then live, at the
// subscriber's pace. Messages no stream captures are delivered live and
// never wait: if the buffer is full, the subscription ends with
// ErrSlowConsumer (the written slow-consumer rule). Delivered messages are
// shared between subscribers and must not be modified.
type Subscription struct {
	b       *Broker
	pattern string
	start   Start
	c       chan *Message
	done    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc

	mu        sync.Mutex
	err       error
	followers map[*stream]context.CancelFunc

	direct subDirect // sub_direct.go
}

// DefaultSubscriptionBuffer is a subscription's buffer when none is given.
const DefaultSubscriptionBuffer = 1024

// Subscribe starts a subscription to pattern.
func (b *Broker) Subscribe(pattern string, start Start, buffer int) (*Subscription, error) {
	if err := subject.ValidatePattern(pattern); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := start.validate(); err != nil {
		return nil, err
	}
	if buffer <= 0 {
		buffer = DefaultSubscriptionBuffer
	}
	s := &Subscription{b: b, pattern: pattern, start: start, c: make(chan *Message, buffer),
		done: make(chan struct{}), followers: map[*stream]context.CancelFunc{}}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	s.ctx, s.cancel = context.WithCancel(b.ctx)
	b.subs[s] = struct{}{}
	b.core.Insert(pattern, s)
	for _, st := range b.streams {
		s.streamAdded(st)
	}
	return s, nil
}

// Messages returns the channel messages arrive on. It is never closed;
// select on Done as well.
func (s *Subscription) Messages() <-chan *Message { return s.c }

// Done is closed when the subscription ends; Err says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended, or nil while it runs.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() { s.close(nil) }

func (s *Subscription) close(err error) {
	s.mu.Lock()
	if s.err != nil || isClosed(s.done) {
		s.mu.Unlock()
		return
	}
	s.err = err
	if err == nil {
		s.err = errClosedByUser
	}
	close(s.done)
	s.mu.Unlock()
	s.Direct(nil)
	s.cancel()
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.core.Remove(s.pattern, s)
	s.b.mu.Unlock()
}

var errClosedByUser = errors.New("subscription closed")

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// offerCore delivers a live message without waiting. The send is tried
// on its own first: a select of one case and a default is a plain
// non-blocking send, where one of three cases takes every channel's lock.
func (s *Subscription) offerCore(m *Message) {
	if s.direct.on.Load() && s.offerDirect(m) {
		return
	}
	select {
	case s.c <- m:
		return
	default:
	}
	select {
	case <-s.done:
	default:
		s.close(fmt.Errorf("%w: %d messages buffered, subscriber not reading", ErrSlowConsumer, cap(s.c)))
	}
}

// streamAdded starts following st's partitions if the pattern may match
// its subjects. Caller holds b.mu.
func (s *Subscription) streamAdded(st *stream) {
	if !overlapsAny(s.pattern, st.cfg.Subjects) || s.followers[st] != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.followers[st] = cancel
	for i := range st.cfg.Partitions {
		f := &follower{sub: s, st: st, name: st.cfg.Name, part: i}
		off, err := s.start.offsetIn(st.cfg.Name, i, st.partLog(i))
		s.b.goTracked(func() { f.run(ctx, off, err) })
	}
}

// streamRemoved stops following a deleted stream.
func (s *Subscription) streamRemoved(st *stream) {
	s.b.mu.Lock()
	cancel := s.followers[st]
	delete(s.followers, st)
	s.b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func overlapsAny(p string, pats []string) bool {
	for _, q := range pats {
		if subject.Overlaps(p, q) {
			return true
		}
	}
	return false
}

// follower reads one partition for one subscription.
type follower struct {
	sub  *Subscription
	st   *stream
	name string // the stream's (immutable) name
	part int
}

// partLog returns the partition's current log (Update reopens logs).
func (st *stream) partLog(i int) *log.Log {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if i >= len(st.parts) {
		return nil
	}
	return st.parts[i].log
}

// run follows the partition from off (resolved when the subscription
// started, so that "latest" means latest at Subscribe).
func (f *follower) run(ctx context.Context, off int64, err error) {
	for err == nil && ctx.Err() == nil {
		off, err = f.step(ctx, off)
	}
	if err != nil && ctx.Err() == nil {
		f.sub.close(fmt.Errorf("following stream %s partition %d: %w", f.name, f.part, err))
	}
}

// step delivers what is readable from off, or waits for more, and returns
// where to go on.
func (f *follower) step(ctx context.Context, off int64) (int64, error) {
	l := f.st.partLog(f.part)
	if l == nil {
		return off, errors.New("partition gone")
	}
	c, err := l.Read(off, 256<<10)
	switch {
	case errors.Is(err, log.ErrOffsetOutOfRange) && off < c.StartOffset:
		return c.StartOffset, nil // retention went past us
	case errors.Is(err, log.ErrClosed):
		return off, waitReopen(ctx)
	case err != nil:
		return off, err
	case len(c.Data) == 0:
		if err := l.Wait(ctx, off); err != nil && !errors.Is(err, log.ErrClosed) {
			return off, err
		}
		return off, nil
	}
	err = log.DecodeRecords(c.Data, off, func(r log.Record) bool {
		if !subject.Match(f.sub.pattern, recordSubject(&r, f.name)) {
			return true
		}
		msg := fromRecord(&r, f.name, f.part)
		size := int64(msgSize(msg))
		select {
		case f.sub.c <- msg:
			f.st.ctr.addOut(1, size)
			return true
		case <-ctx.Done():
			return false
		}
	})
	return c.Next, err
}

// waitReopen pauses briefly while a stream's logs are being reopened.
func waitReopen(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-afterReopen():
	}
	return nil
}

// offsetIn resolves st in one partition of a stream: its Resume position
// when it has one, else the position st names.
func (st Start) offsetIn(stream string, part int, l *log.Log) (int64, error) {
	if off, ok := st.Resume[PartitionRef{Stream: stream, Partition: part}]; ok && l != nil {
		return min(max(off, l.StartOffset()), l.HighWatermark()), nil
	}
	return startOffset(l, st)
}

// startOffset resolves a start position in one partition.
func startOffset(l *log.Log, st Start) (int64, error) {
	if l == nil {
		return 0, errors.New("partition gone")
	}
	start, hw := l.StartOffset(), l.HighWatermark()
	switch st.Kind {
	case StartEarliest, "":
		return start, nil
	case StartLatest:
		return hw, nil
	case StartOffset:
		return min(max(st.Offset, start), hw), nil
	case StartTime:
		return l.OffsetForTime(st.Time.UnixMilli())
	case StartLastN:
		return max(start, hw-st.N), nil
	}
	return 0, invalid("start %q: must be earliest, latest, offset, time or last", st.Kind)
}
