package subject

import "strings"

// level holds the children of one trie node: one per literal token, plus
// one for each wildcard.
type level[T comparable] struct {
	lits map[string]*node[T]
	star *node[T]
	full *node[T]
}

// node is the end of a token path: the values of the pattern that ends
// here, and the level for longer patterns.
type node[T comparable] struct {
	vals valueSet[T]
	next *level[T]
}

// insert adds v under the valid pattern p and reports whether it was new.
func (l *level[T]) insert(p string, v T) bool {
	for {
		tok, rest, more := strings.Cut(p, ".")
		n := l.childOrNew(tok)
		if !more {
			return n.vals.add(v)
		}
		if n.next == nil {
			n.next = &level[T]{}
		}
		l, p = n.next, rest
	}
}

// remove removes v from p, prunes the nodes and levels left empty, and
// reports whether v was there.
func (l *level[T]) remove(p string, v T) bool {
	tok, rest, more := strings.Cut(p, ".")
	n := l.child(tok)
	if n == nil {
		return false
	}
	var ok bool
	if !more {
		ok = n.vals.remove(v)
	} else if n.next != nil {
		ok = n.next.remove(rest, v)
		if n.next.empty() {
			n.next = nil
		}
	}
	if len(n.vals.list) == 0 && n.next == nil {
		l.drop(tok)
	}
	return ok
}

func (l *level[T]) child(tok string) *node[T] {
	switch tok {
	case Star:
		return l.star
	case Full:
		return l.full
	}
	return l.lits[tok]
}

func (l *level[T]) childOrNew(tok string) *node[T] {
	if n := l.child(tok); n != nil {
		return n
	}
	n := &node[T]{}
	switch tok {
	case Star:
		l.star = n
	case Full:
		l.full = n
	default:
		if l.lits == nil {
			l.lits = make(map[string]*node[T])
		}
		l.lits[strings.Clone(tok)] = n
	}
	return n
}

func (l *level[T]) drop(tok string) {
	switch tok {
	case Star:
		l.star = nil
	case Full:
		l.full = nil
	default:
		delete(l.lits, tok)
	}
}

func (l *level[T]) empty() bool {
	return len(l.lits) == 0 && l.star == nil && l.full == nil
}
