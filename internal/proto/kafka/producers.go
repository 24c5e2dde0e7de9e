package kafka

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// producers is the idempotent producers' state: per producer ID, topic
// and partition, the epoch, the next expected sequence and the last five
// batches (what Kafka keeps, and kgo's maximum in flight), so that a
// retried batch is answered with its first offset instead of being stored
// twice.
//
// The state lives in memory. When a producer's batch reaches a partition
// with no state for it (after a restart, or once an idle state was pruned),
// the state is rebuilt from the producer's batches stored in the last
// rebuildWindow (producers_rebuild.go), so a retry that spans a restart is
// recognised.
//
// Under pipelining (00_produce.go) a batch is recorded when it gets its
// offsets, before it is durable, so that the producer's next batch, which
// may already be on its way, is checked against it. A retry of a batch
// still in flight is a duplicate and is answered once the original is
// durable, with the original's offset (or its error). If the write of a
// recorded batch fails, the record is undone (forget): the state goes
// back to expecting that batch, so its retry is accepted, and the
// producer's later batches, refused meanwhile with
// OUT_OF_ORDER_SEQUENCE_NUMBER, are sent again after it, as Kafka clients
// do. A batch whose wait times out (REQUEST_TIMED_OUT) stays recorded: it
// is still being written, and its retry is a duplicate.
type producers struct {
	mu     sync.Mutex
	nextID int64
	states map[producerKey]*producerState
}

const (
	maxProducerStates = 100_000
	producerIdle      = time.Hour
	dedupBatches      = 5
)

type producerKey struct {
	id    int64
	topic string
	part  int32
}

// producerState is one producer's sequence in one partition. mu is held
// across the check, the assignment of offsets and the record of a batch
// (not across its write), so that they are one step per producer and
// partition; only that producer waits on it.
type producerState struct {
	mu      sync.Mutex
	used    time.Time // guarded by producers.mu
	epoch   int16
	next    int32
	recent  [dedupBatches]sentBatch
	nrecent int
	fresh   bool
	rebuilt bool // rebuild from the log was tried
}

// sentBatch is a recorded batch: its sequences, its offset, and how to
// wait for it to be durable (nil when it was read back from the log).
type sentBatch struct {
	first, last int32
	offset      int64
	wait        func(context.Context) error
}

// durable returns how to wait for the batch to be durable.
func (b *sentBatch) durable() func(context.Context) error {
	if b.wait == nil {
		return func(context.Context) error { return nil }
	}
	return b.wait
}

func newProducers() *producers {
	// Seed IDs from the clock so that IDs from before a restart are not
	// handed out again while their producers may still be about.
	return &producers{nextID: time.Now().UnixMilli() << 8, states: map[producerKey]*producerState{}}
}

// newID returns a fresh producer ID.
func (p *producers) newID() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	p.pruneLocked()
	return p.nextID
}

// pruneLocked drops idle states when the table is too large. Caller holds mu.
func (p *producers) pruneLocked() {
	if len(p.states) < maxProducerStates {
		return
	}
	horizon := time.Now().Add(-producerIdle)
	for k, st := range p.states {
		if st.used.Before(horizon) {
			delete(p.states, k)
		}
	}
}

// lock returns the locked state of a producer in a partition.
func (p *producers) lock(k producerKey) *producerState {
	p.mu.Lock()
	st := p.states[k]
	if st == nil {
		st = &producerState{fresh: true}
		p.states[k] = st
	}
	st.used = time.Now()
	p.mu.Unlock()
	st.mu.Lock()
	return st
}

// check says whether a batch may be appended: it returns an earlier
// identical batch (dup), or an error code.
func (st *producerState) check(epoch int16, first, count int32) (dup *sentBatch, code int16) {
	last := first + count - 1
	switch {
	case st.fresh:
		return nil, 0
	case epoch < st.epoch:
		return nil, kerr.InvalidProducerEpoch.Code
	case epoch > st.epoch:
		if first != 0 {
			return nil, kerr.OutOfOrderSequenceNumber.Code
		}
		return nil, 0
	}
	for i := range st.nrecent {
		if b := &st.recent[i]; b.first == first && b.last == last {
			d := *b
			return &d, 0
		}
	}
	if first != st.next {
		return nil, kerr.OutOfOrderSequenceNumber.Code
	}
	return nil, 0
}

// record notes a batch that has its offsets (wait: how to wait for it to
// be durable, nil if it is) and returns the record.
func (st *producerState) record(epoch int16, first, count int32, offset int64, wait func(context.Context) error) sentBatch {
	if st.fresh || epoch != st.epoch {
		st.nrecent = 0
	}
	st.fresh, st.epoch = false, epoch
	last := first + count - 1
	st.next = last + 1
	if st.next < 0 { // sequences wrap at MaxInt32
		st.next = 0
	}
	if st.nrecent == dedupBatches {
		copy(st.recent[:], st.recent[1:])
		st.nrecent--
	}
	b := sentBatch{first: first, last: last, offset: offset, wait: wait}
	st.recent[st.nrecent] = b
	st.nrecent++
	return b
}

// forget undoes the record of a batch whose write failed, and of the
// batches recorded after it: the state expects that batch again. It does
// nothing if the batch is no longer among the recent ones (an earlier
// failure, or a new epoch, already replaced it).
func (st *producerState) forget(b sentBatch) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i := range st.nrecent {
		if r := st.recent[i]; r.first == b.first && r.last == b.last && r.offset == b.offset {
			clear(st.recent[i:st.nrecent])
			st.nrecent, st.next = i, b.first
			return
		}
	}
}
