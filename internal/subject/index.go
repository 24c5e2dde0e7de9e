package subject

import "sync"

// Index maps patterns to values of type T (subscribers, streams, groups)
// and finds the values whose patterns match a subject. It is a trie with
// one level per token, like nats-server's sublist. The zero value is an
// empty index ready to use, and it is safe for concurrent use: Match takes
// the read lock (and, after a cache miss, the write lock if it is free
// right away, to cache the result), Insert and Remove take the write lock.
// An Index must not be copied after first use.
//
// Entries are (pattern, value) pairs held as a set: inserting a pair that
// is present is a no-op and one Remove takes it out (no reference count).
// A caller that needs counting, or one delivery per subscription, makes
// each subscription a distinct value, e.g. a pointer or a struct that
// holds the pattern.
//
// Index.Match reports each matching value once per call, even when several
// of its patterns match the subject: a router delivers one copy of a
// message per subscriber.
//
// Match results are kept in a cache keyed by subject, bounded to
// DefaultCacheSize subjects (see SetCacheSize). A subject enters it on its
// second miss; when it is full, a random quarter of it is dropped. Insert
// and Remove drop the results they change: for a literal pattern, the one
// of that subject; for a pattern with wildcards, those of every cached
// subject it matches, which costs one Match per cached subject under the
// write lock. An Index that has had an Insert holds 1 KiB for the cache
// admission, plus the cache.
type Index[T comparable] struct {
	mu        sync.RWMutex
	root      level[T]
	count     int            // (pattern, value) pairs
	gen       uint64         // bumped by every change, to keep stale results out of cache
	cache     map[string][]T // subject -> unique values
	cacheSize int            // 0: DefaultCacheSize; < 0: no cache
	door      *doorkeeper    // made by the first Insert
}

// Insert adds v under pattern. It returns an *Error if pattern is not a
// valid pattern, and nil otherwise, also when the pair was present.
func (x *Index[T]) Insert(pattern string, v T) error {
	if err := ValidatePattern(pattern); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.door == nil {
		x.door = newDoorkeeper()
	}
	if x.root.insert(pattern, v) {
		x.count++
		x.changed(pattern)
	}
	return nil
}

// Remove removes v from pattern and reports whether it was there.
func (x *Index[T]) Remove(pattern string, v T) bool {
	if pattern == "" {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.root.remove(pattern, v) {
		return false
	}
	x.count--
	x.changed(pattern)
	return true
}

// Len returns the number of (pattern, value) pairs.
func (x *Index[T]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.count
}
