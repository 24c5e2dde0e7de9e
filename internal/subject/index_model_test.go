package subject

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestSubjectIndexModel runs random inserts, removes and matches against
// an Index and a naive model, with the default cache, a tiny one that
// evicts all the time, and none. The small alphabet makes overlapping
// patterns, repeated subjects (cache hits) and duplicates frequent.
func TestSubjectIndexModel(t *testing.T) {
	for _, size := range []int{DefaultCacheSize, 2, 0} {
		t.Run("cache="+strconv.Itoa(size), func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				m := &indexMachine{model: map[pair]bool{}, cacheSize: size}
				m.x.SetCacheSize(size)
				t.Repeat(rapid.StateMachineActions(m))
			})
		})
	}
}

type pair struct {
	pattern string
	value   int
}

var genValue = rapid.IntRange(0, 5)

// indexMachine drives an Index and its model, a set of pairs scanned on
// every match.
type indexMachine struct {
	x         Index[int]
	model     map[pair]bool
	cacheSize int
}

func (m *indexMachine) Insert(t *rapid.T) {
	p := pair{genPattern.Draw(t, "pattern"), genValue.Draw(t, "value")}
	if err := m.x.Insert(p.pattern, p.value); err != nil {
		t.Fatal(err)
	}
	m.model[p] = true
}

func (m *indexMachine) Remove(t *rapid.T) {
	p := m.drawPair(t)
	if got := m.x.Remove(p.pattern, p.value); got != m.model[p] {
		t.Fatalf("Remove(%v) = %v, want %v", p, got, m.model[p])
	}
	delete(m.model, p)
}

// Match checks the result, and that Match appends after what dst holds.
func (m *indexMachine) Match(t *rapid.T) {
	s := genSubject.Draw(t, "subject")
	got := m.x.Match(s, []int{-1})
	slices.Sort(got[1:])
	if want := m.match(s); got[0] != -1 || !slices.Equal(got[1:], want) {
		t.Fatalf("Match(%q) = %v, want -1 then %v", s, got, want)
	}
}

// MatchUncached checks the result, and that it leaves the cache as it was.
func (m *indexMachine) MatchUncached(t *rapid.T) {
	s := genSubject.Draw(t, "subject")
	cached := len(m.x.cache)
	got := m.x.MatchUncached(s, []int{-1})
	slices.Sort(got[1:])
	if want := m.match(s); got[0] != -1 || !slices.Equal(got[1:], want) {
		t.Fatalf("MatchUncached(%q) = %v, want -1 then %v", s, got, want)
	}
	if len(m.x.cache) != cached {
		t.Fatalf("MatchUncached(%q) changed the cache: %d subjects, was %d", s, len(m.x.cache), cached)
	}
}

func (m *indexMachine) Check(t *rapid.T) {
	switch {
	case m.x.Len() != len(m.model):
		t.Fatalf("Len = %d, want %d", m.x.Len(), len(m.model))
	case len(m.model) == 0 && !m.x.root.empty():
		t.Fatal("empty index left nodes behind")
	case len(m.x.cache) > max(m.cacheSize, 0):
		t.Fatalf("cache holds %d subjects, max %d", len(m.x.cache), m.cacheSize)
	}
}

// match returns the values of the model's pairs whose pattern matches
// subject, sorted, each once.
func (m *indexMachine) match(subject string) []int {
	var out []int
	for p := range m.model {
		if refMatch(p.pattern, subject) && !slices.Contains(out, p.value) {
			out = append(out, p.value)
		}
	}
	slices.Sort(out)
	return out
}

// drawPair draws a present pair most of the time, a random one otherwise.
func (m *indexMachine) drawPair(t *rapid.T) pair {
	if len(m.model) == 0 || rapid.IntRange(0, 3).Draw(t, "present") == 0 {
		return pair{genPattern.Draw(t, "pattern"), genValue.Draw(t, "value")}
	}
	pairs := make([]pair, 0, len(m.model))
	for p := range m.model {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, comparePairs)
	return rapid.SampledFrom(pairs).Draw(t, "pair")
}

func comparePairs(a, b pair) int {
	return cmp.Or(strings.Compare(a.pattern, b.pattern), cmp.Compare(a.value, b.value))
}
