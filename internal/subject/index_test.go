package subject

import (
	"errors"
	"hash/maphash"
	"slices"
	"strconv"
	"testing"
)

func TestSubjectIndexBasic(t *testing.T) {
	var x Index[string]
	for _, e := range [][2]string{
		{"orders.eu.created", "s1"}, {"orders.*.created", "s2"},
		{"orders.>", "s3"}, {">", "s4"}, {"orders.*.created", "s1"},
		{"orders.us.created", "s5"},
	} {
		if err := x.Insert(e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}
	checkIndexMatch(t, &x, "orders.eu.created", "s1", "s2", "s3", "s4")
	checkIndexMatch(t, &x, "orders.eu", "s3", "s4")
	checkIndexMatch(t, &x, "orders", "s4")
	checkIndexMatch(t, &x, "")
	if x.Len() != 6 {
		t.Fatalf("Len = %d, want 6", x.Len())
	}
}

func checkIndexMatch(t *testing.T, x *Index[string], subject string, want ...string) {
	t.Helper()
	for range 3 { // a miss, a miss that is cached, a hit
		got := x.Match(subject, nil)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("Match(%q) = %q, want %q", subject, got, want)
		}
	}
}

func TestSubjectIndexSetSemantics(t *testing.T) {
	var x Index[int]
	for range 2 {
		if err := x.Insert("a.*", 1); err != nil {
			t.Fatal(err)
		}
	}
	if x.Len() != 1 {
		t.Fatalf("Len after duplicate Insert = %d, want 1", x.Len())
	}
	if !x.Remove("a.*", 1) || x.Remove("a.*", 1) {
		t.Fatal("Remove must succeed once")
	}
	if x.Remove("a.b", 1) || x.Remove("", 1) || x.Remove("a.>.b", 1) {
		t.Fatal("Remove of an absent pair succeeded")
	}
	if got := x.Match("a.b", nil); len(got) != 0 || x.Len() != 0 {
		t.Fatalf("after Remove: Match = %v, Len = %d", got, x.Len())
	}
	if !x.root.empty() {
		t.Fatal("Remove left nodes behind")
	}
}

func TestSubjectIndexInsertInvalid(t *testing.T) {
	var x Index[int]
	err := x.Insert("a..b", 1)
	if !errors.Is(err, ErrEmptyToken) || x.Len() != 0 {
		t.Fatalf("Insert(a..b) = %v, Len %d", err, x.Len())
	}
}

// TestSubjectIndexLargeFanOut crosses setMapMin and dedupScanMax.
func TestSubjectIndexLargeFanOut(t *testing.T) {
	var x Index[int]
	const n = 100
	for i := range n {
		mustInsert(t, &x, "a.b", i)
		mustInsert(t, &x, "a.*", i)
	}
	for i := 0; i < n; i += 2 {
		x.Remove("a.b", i)
	}
	got := x.Match("a.b", nil)
	slices.Sort(got)
	if len(got) != n || got[0] != 0 || got[n-1] != n-1 {
		t.Fatalf("Match = %v", got)
	}
}

func mustInsert[T comparable](t testing.TB, x *Index[T], p string, v T) {
	t.Helper()
	if err := x.Insert(p, v); err != nil {
		t.Fatal(err)
	}
}

func TestSubjectIndexMatchNoAlloc(t *testing.T) {
	for _, size := range []int{DefaultCacheSize, 0} {
		var x Index[int]
		x.SetCacheSize(size)
		checkMatchNoAlloc(t, &x)
	}
}

func checkMatchNoAlloc(t *testing.T, x *Index[int]) {
	mustInsert(t, x, "a.b.c", 1)
	mustInsert(t, x, "a.*.c", 2)
	mustInsert(t, x, "a.>", 1)
	dst := make([]int, 0, 8)
	x.Match("a.b.c", dst)
	x.Match("a.b.c", dst) // the second miss fills the cache
	n := testing.AllocsPerRun(100, func() {
		dst = x.Match("a.b.c", dst[:0])
	})
	if n != 0 || len(dst) != 2 {
		t.Fatalf("%v allocations per run, result %v", n, dst)
	}
}

func TestSubjectIndexCacheBounded(t *testing.T) {
	var x Index[int]
	mustInsert(t, &x, ">", 1)
	for i := range 3 * DefaultCacheSize {
		subject := "s." + strconv.Itoa(i)
		x.Match(subject, nil)
		if got := x.Match(subject, nil); len(got) != 1 {
			t.Fatalf("Match(%q) = %v", subject, got)
		}
	}
	if len(x.cache) > DefaultCacheSize || len(x.cache) < DefaultCacheSize/2 {
		t.Fatalf("cache holds %d entries, max %d", len(x.cache), DefaultCacheSize)
	}
}

// TestSubjectIndexCacheStore checks the two cases where a computed result
// must not be cached: the index changed since, or the lock is busy.
func TestSubjectIndexCacheStore(t *testing.T) {
	var x Index[int]
	gen := x.gen
	mustInsert(t, &x, "a", 1)
	x.store("a", nil, gen)
	x.mu.RLock()
	x.store("b", nil, x.gen)
	x.mu.RUnlock()
	if len(x.cache) != 0 {
		t.Fatalf("cache = %v, want empty", x.cache)
	}
	x.store("c", []int{1}, x.gen)
	if len(x.cache) != 1 {
		t.Fatalf("cache = %v, want c", x.cache)
	}
}

func TestSubjectIndexCacheOff(t *testing.T) {
	var x Index[int]
	x.SetCacheSize(-5)
	mustInsert(t, &x, "a.*", 1)
	checkIndexMatchInts(t, &x, "a.b", 1)
	if x.cache != nil {
		t.Fatalf("cache = %v with the cache off", x.cache)
	}
}

func checkIndexMatchInts(t *testing.T, x *Index[int], subject string, want ...int) {
	t.Helper()
	if got := x.Match(subject, nil); !slices.Equal(got, want) {
		t.Fatalf("Match(%q) = %v, want %v", subject, got, want)
	}
}

func TestSubjectIndexDoorkeeper(t *testing.T) {
	d := newDoorkeeper()
	if d.admit("a.b") || !d.admit("a.b") || !d.admit("a.b") {
		t.Fatal("want admission from the second miss on")
	}
	for i := 0; d.added.Load() != 0; i++ { // false positives do not count
		if i > 2*doorReset {
			t.Fatal("the doorkeeper never clears")
		}
		d.admit(strconv.Itoa(i))
	}
	if d.admit("a.b") {
		t.Fatal("the doorkeeper did not forget after doorReset subjects")
	}
}

// TestSubjectIndexDoorkeeperFalsePositives checks the sizing: a full
// doorkeeper admits few subjects it never saw.
func TestSubjectIndexDoorkeeperFalsePositives(t *testing.T) {
	d, admitted := newDoorkeeper(), 0
	for i := range doorReset - 1 {
		d.admit("seen." + strconv.Itoa(i))
	}
	for i := range 1000 {
		if d.seen("new." + strconv.Itoa(i)) {
			admitted++
		}
	}
	if admitted > 100 {
		t.Fatalf("%d of 1000 new subjects admitted", admitted)
	}
}

// seen reports whether d would admit subject, without remembering it.
func (d *doorkeeper) seen(subject string) bool {
	h := maphash.String(d.seed, subject)
	return d.has(uint32(h)%doorBits) && d.has(uint32(h>>32)%doorBits)
}
