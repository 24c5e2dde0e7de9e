package meta

import (
	"github.com/cockroachdb/pebble/v2"
)

// A commit is one batch given to Pebble. Commits form a chain in the order
// Pebble applied them; a commit is done when its batch and every earlier
// one are durable (or one of them failed).
type commit struct {
	b    *pebble.Batch
	prev *commit // nil once done
	done chan struct{}
	err  error // set before done is closed
}

// write commits the deferred writes made so far and ops in one batch, and
// waits until it and every earlier batch are durable. With nothing to
// commit, it waits for the last batch applied.
func (s *Store) write(ops []Op) error {
	c, own, err := s.begin(ops)
	if err != nil || c == nil {
		return err
	}
	if own {
		s.finish(c)
	} else {
		<-c.done
	}
	return c.err
}

// begin drains the deferred writes and ops into a batch and has Pebble
// apply it (visible, not yet durable). It returns the new commit (own), or
// the last one if there was nothing to write. Holding commitMu from drain
// to apply makes Pebble's order the order of the writes.
func (s *Store) begin(ops []Op) (c *commit, own bool, err error) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	b, err := s.batch(ops)
	if err != nil {
		s.endCommitting()
		return nil, false, err
	}
	if b.Empty() {
		_ = b.Close()
		s.endCommitting()
		return s.lastCommit(), false, nil
	}
	c = s.link(b)
	err = s.db.ApplyNoSyncWait(b, pebble.Sync)
	s.commits++
	s.endCommitting()
	if err != nil {
		c.err, c.prev = s.fail(err), nil
		close(c.done)
		return nil, false, c.err
	}
	return c, true, nil
}

// batch moves the pending deferred writes to committing and builds a batch
// of them followed by ops. Caller holds commitMu.
func (s *Store) batch(ops []Op) (*pebble.Batch, error) {
	s.mu.Lock()
	if err := s.mu.err; err != nil {
		s.mu.Unlock()
		return nil, err
	}
	pending := s.mu.pending
	s.mu.committing = pending
	s.mu.pending = make(map[string]entry)
	s.mu.pendingBytes = 0
	s.mu.Unlock()
	b := s.db.NewBatch()
	if err := fill(b, pending, ops); err != nil {
		_ = b.Close()
		return nil, s.fail(err)
	}
	return b, nil
}

func fill(b *pebble.Batch, pending map[string]entry, ops []Op) error {
	for k, e := range pending {
		if err := addEntry(b, k, e); err != nil {
			return err
		}
	}
	for _, op := range ops {
		if err := addOp(b, op); err != nil {
			return err
		}
	}
	return nil
}

func addEntry(b *pebble.Batch, k string, e entry) error {
	if e.del {
		return b.Delete([]byte(k), nil)
	}
	return b.Set([]byte(k), e.val, nil)
}

// endCommitting forgets the deferred writes of the batch just applied:
// reads find them in Pebble now. Caller holds commitMu.
func (s *Store) endCommitting() {
	s.mu.Lock()
	s.mu.committing = nil
	s.mu.Unlock()
}

func (s *Store) lastCommit() *commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.last
}

// link makes a commit for b the last of the chain. Caller holds commitMu.
func (s *Store) link(b *pebble.Batch) *commit {
	c := &commit{b: b, done: make(chan struct{})}
	s.mu.Lock()
	c.prev, s.mu.last = s.mu.last, c
	s.mu.Unlock()
	return c
}

// finish waits until c's batch and every earlier one are durable and
// marks c done. A failure fails the store.
func (s *Store) finish(c *commit) {
	err := c.b.SyncWait()
	_ = c.b.Close()
	if p := c.prev; p != nil {
		<-p.done
		if err == nil {
			err = p.err
		}
	}
	if err != nil {
		err = s.fail(err)
	}
	c.b, c.prev, c.err = nil, nil, err
	close(c.done)
}
