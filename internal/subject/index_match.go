package subject

import "strings"

// dedupScanMax is the result size up to which Match removes duplicates by
// scanning, without allocating; above it, it uses a map.
const dedupScanMax = 32

// Match appends to dst the values whose patterns match subject, each once,
// in no particular order, and returns the extended slice. It allocates
// nothing on a cache hit, nor with the cache off, when dst has room for
// the result; a miss that caches its result allocates a copy of it and of
// the subject, and a result of more than dedupScanMax values from several
// patterns a temporary set. On the hot path, pass dst[:0] of a slice
// reused from call to call.
//
// Match does not validate subject: validate at the edge. An invalid
// subject is matched token by token as if literal, never panics, and an
// empty subject matches nothing.
func (x *Index[T]) Match(subject string, dst []T) []T {
	if subject == "" {
		return dst
	}
	x.mu.RLock()
	if r, ok := x.cache[subject]; ok {
		dst = append(dst, r...)
		x.mu.RUnlock()
		return dst
	}
	gen, start, caching := x.gen, len(dst), x.admit(subject)
	dst = x.match(subject, dst)
	x.mu.RUnlock()
	if caching {
		x.store(subject, dst[start:], gen)
	}
	return dst
}

// MatchUncached is Match without the result cache: it neither looks the
// subject up nor counts it towards admission. It is for subjects that are
// not matched again, such as a request's private reply subject: through
// Match, each would take a place in the cache's doorkeeper (hastening the
// moment it forgets the subjects that do repeat), and one matched twice
// would take a place in the cache itself.
func (x *Index[T]) MatchUncached(subject string, dst []T) []T {
	if subject == "" {
		return dst
	}
	x.mu.RLock()
	dst = x.match(subject, dst)
	x.mu.RUnlock()
	return dst
}

// match walks the trie and appends the unique matching values to dst.
// The caller holds mu, at least for reading.
//
// The walk passes dst down and back up by value through one
// self-recursive function: a slice stored through a pointer (as in a
// collector struct), or passed around a cycle of two functions, escapes
// in Go's escape analysis, and then so does the caller's dst: a stack
// buffer was moved to the heap on every call. TestIndexMatchStackBuffer
// holds it.
func (x *Index[T]) match(subject string, dst []T) []T {
	start := len(dst)
	// No wildcard at the root matches a system subject.
	dst, nodes := matchLevel(&x.root, subject, system(subject), dst, 0)
	if nodes > 1 {
		dst = dedup(dst, start)
	}
	return dst
}

// matchLevel matches subject, what is left of it, against the children
// of l (only the literal ones if literal), appending the values of the
// matching nodes to dst and counting those with values in nodes.
func matchLevel[T comparable](l *level[T], subject string, literal bool, dst []T, nodes int) ([]T, int) {
	tok, rest, more := strings.Cut(subject, ".")
	if !literal && l.full != nil {
		dst, nodes = add(l.full, dst, nodes)
	}
	if n := l.star; !literal && n != nil {
		if !more {
			dst, nodes = add(n, dst, nodes)
		} else if n.next != nil {
			dst, nodes = matchLevel(n.next, rest, false, dst, nodes)
		}
	}
	if n := l.lits[tok]; n != nil {
		if !more {
			dst, nodes = add(n, dst, nodes)
		} else if n.next != nil {
			dst, nodes = matchLevel(n.next, rest, false, dst, nodes)
		}
	}
	return dst, nodes
}

// add appends the values of n, if it has any, and counts it.
func add[T comparable](n *node[T], dst []T, nodes int) ([]T, int) {
	if len(n.vals.list) == 0 {
		return dst, nodes
	}
	return append(dst, n.vals.list...), nodes + 1
}

// dedup removes repeated values from dst[start:], keeping the first of
// each, and clears the tail it drops.
func dedup[T comparable](dst []T, start int) []T {
	vals := dst[start:]
	var n int
	if len(vals) <= dedupScanMax {
		n = dedupScan(vals)
	} else {
		n = dedupMap(vals)
	}
	clear(vals[n:])
	return dst[:start+n]
}

func dedupScan[T comparable](vals []T) int {
	n := 0
	for _, v := range vals {
		if !contains(vals[:n], v) {
			vals[n] = v
			n++
		}
	}
	return n
}

func dedupMap[T comparable](vals []T) int {
	seen := make(map[T]struct{}, len(vals))
	n := 0
	for _, v := range vals {
		if _, ok := seen[v]; !ok {
			seen[v] = struct{}{}
			vals[n] = v
			n++
		}
	}
	return n
}

func contains[T comparable](vals []T, v T) bool {
	for _, w := range vals {
		if w == v {
			return true
		}
	}
	return false
}
