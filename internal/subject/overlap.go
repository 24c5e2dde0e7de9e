package subject

import "strings"

// Overlaps reports whether some subject matches both patterns. The broker
// uses it to refuse two streams that would capture the same subject. Like
// Match it does not allocate and expects valid patterns.
func Overlaps(p1, p2 string) bool {
	if p1 == "" || p2 == "" {
		return false
	}
	if system(p1) && wildcardAt(p2, 0) != 0 || system(p2) && wildcardAt(p1, 0) != 0 {
		return false
	}
	for {
		t1, r1, more1 := strings.Cut(p1, ".")
		t2, r2, more2 := strings.Cut(p2, ".")
		switch {
		case t1 == Full && !more1, t2 == Full && !more2:
			return true // the other has at least this token left
		case t1 != t2 && t1 != Star && t2 != Star, more1 != more2:
			return false
		case !more1:
			return true
		}
		p1, p2 = r1, r2
	}
}

// Subsumes reports whether every subject that matches p2 also matches p1:
// p1 is p2 or more general. Like Match it does not allocate and expects
// valid patterns.
func Subsumes(p1, p2 string) bool {
	if p1 == "" || p2 == "" {
		return false
	}
	if system(p2) && wildcardAt(p1, 0) != 0 {
		return false
	}
	for {
		t1, r1, more1 := strings.Cut(p1, ".")
		t2, r2, more2 := strings.Cut(p2, ".")
		switch {
		case t1 == Full && !more1:
			return true // p2 has at least this token left
		case t2 == Full && !more2:
			return false // p2 matches longer subjects than p1 can
		case t1 != Star && t1 != t2, more1 != more2:
			return false
		case !more1:
			return true
		}
		p1, p2 = r1, r2
	}
}
