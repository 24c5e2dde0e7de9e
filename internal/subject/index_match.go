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

// match walks the trie and appends the unique matching values to dst.
// The caller holds mu, at least for reading.
func (x *Index[T]) match(subject string, dst []T) []T {
	c := collector[T]{dst: dst, start: len(dst)}
	if system(subject) { // no wildcard at the root matches it
		tok, rest, more := strings.Cut(subject, ".")
		if n := x.root.lits[tok]; n != nil {
			c.matchNode(n, rest, more)
		}
	} else {
		c.matchLevel(&x.root, subject)
	}
	if c.nodes > 1 {
		c.dedup()
	}
	return c.dst
}

// collector gathers the values of the nodes that match a subject.
type collector[T comparable] struct {
	dst   []T
	start int // len(dst) on entry
	nodes int // matching nodes with values
}

// matchLevel matches subject, what is left of it, against the children of l.
func (c *collector[T]) matchLevel(l *level[T], subject string) {
	tok, rest, more := strings.Cut(subject, ".")
	if l.full != nil {
		c.add(l.full)
	}
	if l.star != nil {
		c.matchNode(l.star, rest, more)
	}
	if n := l.lits[tok]; n != nil {
		c.matchNode(n, rest, more)
	}
}

// matchNode continues at n, which matched one token, with the rest of the
// subject.
func (c *collector[T]) matchNode(n *node[T], rest string, more bool) {
	if !more {
		c.add(n)
	} else if n.next != nil {
		c.matchLevel(n.next, rest)
	}
}

func (c *collector[T]) add(n *node[T]) {
	if len(n.vals.list) > 0 {
		c.dst = append(c.dst, n.vals.list...)
		c.nodes++
	}
}

// dedup removes repeated values from c.dst[c.start:], keeping the first
// of each, and clears the tail it drops.
func (c *collector[T]) dedup() {
	vals := c.dst[c.start:]
	var n int
	if len(vals) <= dedupScanMax {
		n = dedupScan(vals)
	} else {
		n = dedupMap(vals)
	}
	clear(vals[n:])
	c.dst = c.dst[:c.start+n]
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
