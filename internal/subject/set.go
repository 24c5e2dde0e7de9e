package subject

import "slices"

// setMapMin is the size from which a valueSet keeps a map of positions;
// below it a linear scan is faster and uses less memory.
const setMapMin = 16

// valueSet is a set of values kept in a slice, for fast iteration on the
// match path, with a map of positions once it grows past setMapMin so
// that adding and removing stay O(1) for patterns with a large fan-out.
type valueSet[T comparable] struct {
	list []T
	pos  map[T]int // nil below setMapMin
}

func (s *valueSet[T]) index(v T) int {
	if s.pos == nil {
		return slices.Index(s.list, v)
	}
	if i, ok := s.pos[v]; ok {
		return i
	}
	return -1
}

// add adds v and reports whether it was absent.
func (s *valueSet[T]) add(v T) bool {
	if s.index(v) >= 0 {
		return false
	}
	s.list = append(s.list, v)
	switch {
	case s.pos != nil:
		s.pos[v] = len(s.list) - 1
	case len(s.list) >= setMapMin:
		s.pos = make(map[T]int, len(s.list))
		for i, w := range s.list {
			s.pos[w] = i
		}
	}
	return true
}

// remove removes v and reports whether it was present. The last value
// takes the place of v.
func (s *valueSet[T]) remove(v T) bool {
	i := s.index(v)
	if i < 0 {
		return false
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	clear(s.list[last:])
	s.list = s.list[:last]
	if s.pos != nil {
		delete(s.pos, v)
		if i < last {
			s.pos[s.list[i]] = i
		}
	}
	return true
}
