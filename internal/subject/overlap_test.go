package subject

import (
	"strings"
	"testing"
)

func TestSubjectOverlapsTable(t *testing.T) {
	cases := []struct {
		p1, p2         string
		overlaps, subs bool // Overlaps(p1, p2), Subsumes(p1, p2)
	}{
		{"a", "a", true, true},
		{"a", "b", false, false},
		{"a.b", "a", false, false},
		{"*", "a", true, true},
		{"a", "*", true, false},
		{">", "a.b.c", true, true},
		{"a.b.c", ">", true, false},
		{"a.>", "a", false, false},
		{"a.>", "a.*", true, true},
		{"a.*", "a.>", true, false},
		{"a.>", "*.b", true, false},
		{"*.b", "a.*", true, false},
		{"*.>", ">", true, false},
		{">", "*.>", true, true},
		{"a.*.c", "a.b.>", true, false},
		{"a.*.c", "b.>", false, false},
		{"", "a", false, false},
		{">", "$mqtt.retained", false, false},
		{"$mqtt.retained", ">", false, false},
		{"*.>", "$mqtt.>", false, false},
		{"$mqtt.>", "$mqtt.retained", true, true},
	}
	for _, c := range cases {
		if got := Overlaps(c.p1, c.p2); got != c.overlaps {
			t.Errorf("Overlaps(%q, %q) = %v, want %v", c.p1, c.p2, got, c.overlaps)
		}
		if got := Subsumes(c.p1, c.p2); got != c.subs {
			t.Errorf("Subsumes(%q, %q) = %v, want %v", c.p1, c.p2, got, c.subs)
		}
	}
}

// TestSubjectOverlapsBruteForce checks Overlaps and Subsumes on every pair
// of patterns of up to 4 tokens over {a, b, *, >} against every subject of
// up to 5 tokens over {a, b, c}. That is enough for a witness: a subject
// matching both patterns needs no more tokens than the longer one, and one
// matching p2 but not p1 at most one more; "c" stands for any other token.
func TestSubjectOverlapsBruteForce(t *testing.T) {
	patterns := patternsUpTo(4)
	matches := matchTable(patterns, subjectsUpTo(5))
	for i, p1 := range patterns {
		for j, p2 := range patterns {
			overlaps, subsumes := bruteForce(matches[i], matches[j])
			if got := Overlaps(p1, p2); got != overlaps {
				t.Errorf("Overlaps(%q, %q) = %v, want %v", p1, p2, got, overlaps)
			}
			if got := Subsumes(p1, p2); got != subsumes {
				t.Errorf("Subsumes(%q, %q) = %v, want %v", p1, p2, got, subsumes)
			}
		}
	}
}

// matchTable returns, for each pattern, whether it matches each subject.
func matchTable(patterns, subjects []string) [][]bool {
	out := make([][]bool, len(patterns))
	for i, p := range patterns {
		re := refRegexp(p)
		for _, s := range subjects {
			out[i] = append(out[i], re.MatchString(s))
		}
	}
	return out
}

// bruteForce compares which subjects two patterns match.
func bruteForce(matches1, matches2 []bool) (overlaps, subsumes bool) {
	subsumes = true
	for k, m1 := range matches1 {
		m2 := matches2[k]
		overlaps = overlaps || m1 && m2
		subsumes = subsumes && (m1 || !m2)
	}
	return overlaps, subsumes
}

// patternsUpTo returns the valid patterns of 1 to n tokens over {a, $s,
// *, >} ($s: a system token, which first-token wildcards do not match).
func patternsUpTo(n int) []string {
	var out []string
	for _, prefix := range joinAll([]string{"a", "$s", Star}, n-1) {
		for _, last := range []string{"a", "$s", Star, Full} {
			out = append(out, strings.TrimPrefix(prefix+"."+last, "."))
		}
	}
	return out
}

// subjectsUpTo returns the subjects of 1 to n tokens over {a, $s, c}.
func subjectsUpTo(n int) []string {
	return joinAll([]string{"a", "$s", "c"}, n)[1:]
}

// joinAll returns every dot-joined sequence of 0 to n tokens, "" first.
func joinAll(toks []string, n int) []string {
	out, prev := []string{""}, []string{""}
	for range n {
		var next []string
		for _, p := range prev {
			for _, tok := range toks {
				next = append(next, strings.TrimPrefix(p+"."+tok, "."))
			}
		}
		out, prev = append(out, next...), next
	}
	return out
}

// TestSubjectMatchExhaustive checks Match on the same small universe.
func TestSubjectMatchExhaustive(t *testing.T) {
	patterns, subjects := patternsUpTo(4), subjectsUpTo(5)
	for i, row := range matchTable(patterns, subjects) {
		for k, want := range row {
			if got := Match(patterns[i], subjects[k]); got != want {
				t.Fatalf("Match(%q, %q) = %v, want %v", patterns[i], subjects[k], got, want)
			}
		}
	}
}
