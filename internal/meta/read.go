package meta

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// Get returns a copy of the value of key, or ErrNotFound. It sees every
// write made before the call, deferred ones included.
func (s *Store) Get(key []byte) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.active.Done()
	if e, ok := s.overlayGet(key); ok {
		if e.del {
			return nil, ErrNotFound
		}
		return append([]byte{}, e.val...), nil
	}
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

// overlayGet looks key up among the deferred writes not yet in Pebble.
func (s *Store) overlayGet(key []byte) (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.mu.pending[string(key)]; ok {
		return e, true
	}
	e, ok := s.mu.committing[string(key)]
	return e, ok
}

// Scan calls fn for every key that starts with prefix, in key order, with
// its value. It sees one consistent state of the store that includes every
// write made before the call, deferred ones included; writes made during
// the scan may or may not be seen. The slices given to fn are valid only
// during the call and must not be modified. If fn returns an error, Scan
// stops and returns it, except ErrStopScan, for which it returns nil. fn
// may call the store's other methods, but not Close.
func (s *Store) Scan(prefix []byte, fn func(key, val []byte) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.active.Done()
	it, over, err := s.snapshot(prefix)
	if err != nil {
		return err
	}
	err = merge(it, over, fn)
	if errors.Is(err, ErrStopScan) {
		err = nil
	}
	return firstErr(err, it.Close())
}

// kv is a deferred write seen by a scan.
type kv struct {
	key string
	entry
}

// snapshot opens an iterator over prefix and copies the deferred writes
// under prefix. Holding commitMu means no batch is being applied, so the
// two are one consistent state.
func (s *Store) snapshot(prefix []byte) (*pebble.Iterator, []kv, error) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	var over []kv
	for k, e := range s.mu.pending {
		if strings.HasPrefix(k, string(prefix)) {
			over = append(over, kv{k, e})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(over, func(a, b kv) int { return strings.Compare(a.key, b.key) })
	return it, over, nil
}

// merge walks the iterator and the sorted deferred writes together; a
// deferred write replaces the stored value of its key.
func merge(it *pebble.Iterator, over []kv, fn func(key, val []byte) error) error {
	valid := it.First()
	for valid || len(over) > 0 {
		c := 1 // < 0: the iterator's key is next; 0: both; > 0: the overlay's
		if len(over) == 0 {
			c = -1
		} else if valid {
			c = bytes.Compare(it.Key(), []byte(over[0].key))
		}
		var err error
		if c < 0 {
			err = emitStored(it, fn)
		} else {
			err = emitDeferred(over[0], fn)
			over = over[1:]
		}
		if err != nil {
			return err
		}
		if c <= 0 {
			valid = it.Next()
		}
	}
	return it.Error()
}

func emitStored(it *pebble.Iterator, fn func(key, val []byte) error) error {
	v, err := it.ValueAndErr()
	if err != nil {
		return err
	}
	return fn(it.Key(), v)
}

func emitDeferred(o kv, fn func(key, val []byte) error) error {
	if o.del {
		return nil
	}
	return fn([]byte(o.key), o.val)
}
