package subject

import (
	"slices"
	"strings"
)

// DefaultCacheSize is the number of subjects whose Match result an Index
// caches, unless SetCacheSize says otherwise.
const DefaultCacheSize = 1024

// SetCacheSize bounds the result cache to n subjects; n <= 0 turns the
// cache off. It drops the cached results.
//
// The cache pays when subjects repeat: a hit costs a map lookup and a
// copy, where a miss walks the trie. A subject enters the cache on its
// second miss (see doorkeeper), so that subjects that never repeat cost
// little more than with no cache.
func (x *Index[T]) SetCacheSize(n int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n <= 0 {
		n = -1
	}
	x.cacheSize, x.cache = n, nil
}

// cacheLimit returns the bound on the cache, 0 if it is off. The caller
// holds mu.
func (x *Index[T]) cacheLimit() int {
	switch {
	case x.cacheSize == 0:
		return DefaultCacheSize
	case x.cacheSize < 0:
		return 0
	}
	return x.cacheSize
}

// admit reports whether the result for subject, a miss, should be
// cached. The caller holds mu, at least for reading.
func (x *Index[T]) admit(subject string) bool {
	return x.cacheLimit() > 0 && x.door != nil && x.door.admit(subject)
}

// store caches result, the unique values matching subject, computed at
// generation gen. It stores nothing if the index changed since, nor if
// the lock is busy: caching is optional, and a miss must not wait for
// other readers nor make them wait.
func (x *Index[T]) store(subject string, result []T, gen uint64) {
	if !x.mu.TryLock() {
		return
	}
	defer x.mu.Unlock()
	limit := x.cacheLimit()
	if x.gen != gen || limit == 0 {
		return
	}
	if x.cache == nil {
		x.cache = make(map[string][]T)
	}
	if len(x.cache) >= limit {
		x.evict(limit / 4)
	}
	// Clone the key: subject may point into a caller's reused buffer.
	x.cache[strings.Clone(subject)] = slices.Clone(result)
}

// evict drops n arbitrary cached subjects, at least one; map iteration
// starts at a random place. The caller holds mu.
func (x *Index[T]) evict(n int) {
	for k := range x.cache {
		delete(x.cache, k)
		if n--; n <= 0 {
			return
		}
	}
}

// changed records that the values of pattern changed: it bumps the
// generation and drops the cached results it may have changed. The caller
// holds mu.
func (x *Index[T]) changed(pattern string) {
	x.gen++
	if IsLiteral(pattern) {
		delete(x.cache, pattern)
		return
	}
	for s := range x.cache {
		if Match(pattern, s) {
			delete(x.cache, s)
		}
	}
}
