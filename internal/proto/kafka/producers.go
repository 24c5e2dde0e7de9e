package kafka

import (
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
// recognised. An append that times out (REQUEST_TIMED_OUT) may still have
// been stored, and is not recorded here, so its retry within the same
// process is stored again.
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
// across the append of the producer's batch, so that check, append and
// record are one step per producer and partition; only that producer
// waits on it.
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

type sentBatch struct {
	first, last int32
	offset      int64
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

// check says whether a batch may be appended: it returns the offset of
// an earlier identical batch (dup), or an error code.
func (st *producerState) check(epoch int16, first, count int32) (dup int64, isDup bool, code int16) {
	last := first + count - 1
	switch {
	case st.fresh:
		return 0, false, 0
	case epoch < st.epoch:
		return 0, false, kerr.InvalidProducerEpoch.Code
	case epoch > st.epoch:
		if first != 0 {
			return 0, false, kerr.OutOfOrderSequenceNumber.Code
		}
		return 0, false, 0
	}
	for i := range st.nrecent {
		if b := st.recent[i]; b.first == first && b.last == last {
			return b.offset, true, 0
		}
	}
	if first != st.next {
		return 0, false, kerr.OutOfOrderSequenceNumber.Code
	}
	return 0, false, 0
}

// record notes an appended batch.
func (st *producerState) record(epoch int16, first, count int32, offset int64) {
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
	st.recent[st.nrecent] = sentBatch{first: first, last: last, offset: offset}
	st.nrecent++
}
