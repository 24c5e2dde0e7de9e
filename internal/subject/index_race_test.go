package subject

import (
	"slices"
	"strconv"
	"sync"
	"testing"
)

// TestSubjectIndexConcurrent runs writers that insert and remove patterns
// overlapping a fixed set against readers that check, on every match,
// that the fixed values are all there, once. Run it under -race.
func TestSubjectIndexConcurrent(t *testing.T) {
	var x Index[int]
	fixed := map[string]int{"a.b.c": -1, "a.*.c": -2, "a.>": -3}
	for p, v := range fixed {
		mustInsert(t, &x, p, v)
	}
	churn := []string{"a.b.c", "a.*.c", "a.>", ">", "*.b.*", "a.b", "x.y"}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { churnIndex(&x, churn, w) })
	}
	for range 4 {
		wg.Go(func() { readIndex(t, &x) })
	}
	wg.Wait()
	if x.Len() != len(fixed) {
		t.Fatalf("Len = %d, want %d", x.Len(), len(fixed))
	}
	if got := checkFixed(t, &x, nil); len(got) != len(fixed) {
		t.Fatalf("Match(a.b.c) = %v after the churn", got)
	}
}

func churnIndex(x *Index[int], patterns []string, w int) {
	for i := range 2000 {
		p, v := patterns[i%len(patterns)], w*10+i%7
		if err := x.Insert(p, v); err != nil {
			panic(err)
		}
		if i%3 != 0 {
			x.Remove(p, v)
		}
	}
	for _, p := range patterns {
		for v := range 7 {
			x.Remove(p, w*10+v)
		}
	}
}

func readIndex(t *testing.T, x *Index[int]) {
	var dst []int
	for i := range 4000 {
		dst = checkFixed(t, x, dst[:0])
		x.Match("x.y."+strconv.Itoa(i%50), dst[:0])
	}
}

// checkFixed checks that a.b.c matches the fixed values, and every value
// once.
func checkFixed(t *testing.T, x *Index[int], dst []int) []int {
	dst = x.Match("a.b.c", dst)
	sorted := slices.Compact(slices.Sorted(slices.Values(dst)))
	if len(sorted) != len(dst) || len(dst) < 3 || !slices.Equal(sorted[:3], []int{-3, -2, -1}) {
		t.Errorf("Match(a.b.c) = %v", dst)
	}
	return dst
}
