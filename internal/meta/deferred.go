package meta

import (
	"bytes"
	"time"
)

// SetDeferred sets key to val without waiting: the write is visible to
// Get and Scan at once and becomes durable within CommitInterval, or
// earlier with the next Flush, synchronous write, or Close. Deferred
// writes are committed in the order they were made, together with any
// that follow within the interval (a later write to a key replaces the
// earlier one). It returns ErrClosed or the store's failure, never an I/O
// error of its own: that comes from the next Flush, synchronous write or
// Close. With a negative CommitInterval it is Set.
func (s *Store) SetDeferred(key, val []byte) error {
	if s.interval < 0 {
		return s.Set(key, val)
	}
	return s.deferWrite(key, entry{val: bytes.Clone(val)})
}

// SetDeferredNew is SetDeferred for a key the caller knows is not stored
// (never written, or deleted by a write already made). While the write
// is pending, a DeleteDeferred of the key just drops it: neither reaches
// the disk. Short-lived keys (a message's delivery count, set when it is
// delivered and deleted when it is acked) so cost nothing on disk.
func (s *Store) SetDeferredNew(key, val []byte) error {
	if s.interval < 0 {
		return s.Set(key, val)
	}
	return s.deferWrite(key, entry{val: bytes.Clone(val), fresh: true})
}

// DeleteDeferred deletes key as SetDeferred sets one.
func (s *Store) DeleteDeferred(key []byte) error {
	if s.interval < 0 {
		return s.Delete(key)
	}
	return s.deferWrite(key, entry{del: true})
}

// Flush makes every write made before the call durable. If a commit has
// failed, now or earlier, it returns that failure (wrapping ErrFailed).
func (s *Store) Flush() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.active.Done()
	return s.flush()
}

func (s *Store) flush() error { return s.write(nil) }

func (s *Store) deferWrite(key []byte, e entry) error {
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	k := s.keyLocked(key)
	first := len(s.mu.pending) == 0
	old, ok := s.mu.pending[k]
	if ok {
		s.mu.pendingBytes -= len(k) + len(old.val)
	}
	// A key is fresh only if it was fresh before this write: with no
	// pending write, only the caller can know (SetDeferredNew); over one,
	// the pending one knows (a pending delete may hide a stored key).
	e.fresh = ok && old.fresh || !ok && e.fresh
	if e.del && e.fresh {
		delete(s.mu.pending, k)
		s.mu.Unlock()
		return nil
	}
	s.mu.pending[k] = e
	s.mu.pendingBytes += len(k) + len(e.val)
	full := s.mu.pendingBytes >= deferredCommitBytes
	s.mu.Unlock()
	if first {
		notify(s.kick)
	}
	if full {
		notify(s.urgent)
	}
	return nil
}

// keyLocked returns key as a string: one made before when key is among
// the last few keys written (a group writes its handed mark at every
// first delivery and its floor at every settle), else a new one. Caller
// holds mu.
func (s *Store) keyLocked(key []byte) string {
	c := &s.mu.keys
	for _, k := range c.recent {
		if k == string(key) {
			return k
		}
	}
	k := string(key)
	c.recent[c.next] = k
	c.next = (c.next + 1) % len(c.recent)
	return k
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// commitLoop is the committer: once deferred writes arrive it waits
// CommitInterval (less if they grow large) and commits them all in one
// batch. A failed commit fails the store; the next call reports it.
func (s *Store) commitLoop() {
	defer close(s.done)
	t := time.NewTimer(s.interval)
	t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		}
		t.Reset(s.interval)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		case <-s.urgent:
			t.Stop()
		}
		_ = s.flush()
	}
}
