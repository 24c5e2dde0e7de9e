package meta

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// formatVersion is stored under Key(NSSys, "format"); Open refuses a store
// of another format.
const formatVersion = 1

// Store is the broker's durable metadata store. It is safe for concurrent
// use.
type Store struct {
	db       *pebble.DB
	interval time.Duration

	// commitMu is held from draining the overlay into a batch until Pebble
	// has applied that batch, so Pebble commits batches in the order their
	// writes were made. Lock order: commitMu → mu.
	commitMu sync.Mutex

	mu struct {
		sync.Mutex
		closed bool
		err    error // sticky failure; wraps ErrFailed
		// pending holds deferred writes not yet in a batch; committing
		// holds those of the batch being applied (caller holds commitMu),
		// so that reads see them until Pebble does.
		pending      map[string]entry
		pendingBytes int
		committing   map[string]entry
		keys         struct { // the keys of the last deferred writes (keyLocked)
			recent [4]string
			next   int
		}
		last *commit // the most recently applied commit
	}

	active sync.WaitGroup // calls using db; Close waits for them
	kick   chan struct{}  // cap 1: pending became non-empty
	urgent chan struct{}  // cap 1: pending passed deferredCommitBytes
	stop   chan struct{}  // closed by Close to stop the committer
	done   chan struct{}  // closed when the committer has stopped

	commits int64 // batches applied; caller holds commitMu (tests read it)
}

// entry is one deferred write: a value, or a delete.
type entry struct {
	val []byte
	del bool
	// fresh: the key is not in Pebble (nor in a commit under way), so
	// deleting it while still pending needs no tombstone.
	fresh bool
}

// Open opens the store in dir, creating it if needed.
func Open(dir string, o Options) (*Store, error) {
	db, err := pebble.Open(dir, o.pebble())
	if err != nil {
		return nil, fmt.Errorf("meta: open %s: %w", dir, err)
	}
	s := &Store{db: db, interval: o.interval()}
	s.mu.pending = map[string]entry{}
	if err := s.checkFormat(); err != nil {
		return nil, firstErr(err, db.Close())
	}
	if s.interval > 0 {
		s.kick = make(chan struct{}, 1)
		s.urgent = make(chan struct{}, 1)
		s.stop = make(chan struct{})
		s.done = make(chan struct{})
		go s.commitLoop()
	}
	return s, nil
}

// checkFormat records the format of a new store and checks an old one's.
func (s *Store) checkFormat() error {
	key := Key(NSSys, "format")
	v, err := s.Get(key)
	if errors.Is(err, ErrNotFound) {
		return s.Set(key, EncodeInt(formatVersion))
	}
	if err != nil {
		return err
	}
	if n, err := DecodeInt(v); err != nil || n != formatVersion {
		return fmt.Errorf("meta: unsupported store format %x", v)
	}
	return nil
}

// Close commits the deferred writes, waits for calls in progress, and
// closes the store. It returns the error of the final commit, or the
// failure that stopped the store earlier.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.mu.closed = true
	s.mu.Unlock()
	s.active.Wait()
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	err := s.flush()
	return firstErr(err, s.db.Close())
}

// enter admits a call that uses db; the caller must call s.active.Done.
func (s *Store) enter() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	s.active.Add(1)
	return nil
}

// usableLocked reports why the store refuses calls, if it does. Caller
// holds mu.
func (s *Store) usableLocked() error {
	if s.mu.closed {
		return ErrClosed
	}
	return s.mu.err
}

// fail makes the store refuse further calls and returns the error that
// they get.
func (s *Store) fail(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.err == nil {
		s.mu.err = fmt.Errorf("%w: %w", ErrFailed, err)
	}
	return s.mu.err
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
