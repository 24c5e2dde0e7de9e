package subject

import "testing"

// Match and MatchUncached into a caller's stack buffer allocate nothing,
// cache hit or miss: the buffer must not escape through the trie walk
// (the broker's capturing and deliverCore rely on it).
func TestSubjectIndexMatchStackBuffer(t *testing.T) {
	x := &Index[*int]{}
	vals := []*int{new(int), new(int), new(int)}
	for i, p := range []string{"a.>", "a.*.c", "a.b.c"} {
		mustInsert(t, x, p, vals[i])
	}
	mustInsert(t, x, "$sys.x", vals[0])
	want := map[string]int{"a.b.c": 3, "a.x.c": 2, "$sys.x": 1, "none.here": 0}
	for subj, n := range want {
		for _, name := range []string{"Match", "MatchUncached"} {
			got := 0
			allocs := testing.AllocsPerRun(100, func() {
				var buf [4]*int // a direct call: a func value would make it escape
				if name == "Match" {
					got = len(x.Match(subj, buf[:0]))
				} else {
					got = len(x.MatchUncached(subj, buf[:0]))
				}
			})
			if allocs != 0 {
				t.Errorf("%s(%q) into a stack buffer: %v allocations per call, want 0", name, subj, allocs)
			}
			if got != n {
				t.Errorf("%s(%q): %d values, want %d", name, subj, got, n)
			}
		}
	}
}

// MatchUncached leaves no trace in the doorkeeper: a subject matched
// through it any number of times is still new to Match.
func TestSubjectIndexMatchUncachedNoAdmission(t *testing.T) {
	var x Index[int]
	mustInsert(t, &x, "a.*", 1)
	for range 3 {
		if got := x.MatchUncached("a.b", nil); len(got) != 1 || got[0] != 1 {
			t.Fatalf("MatchUncached(a.b) = %v, want [1]", got)
		}
	}
	if x.door.seen("a.b") || len(x.cache) != 0 {
		t.Fatalf("MatchUncached left a trace: seen %v, cache %v", x.door.seen("a.b"), x.cache)
	}
}
