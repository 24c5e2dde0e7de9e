package subject

import (
	"fmt"
	"testing"
)

var sink bool

func BenchmarkSubjectValidate(b *testing.B) {
	for b.Loop() {
		_ = ValidateSubject("orders.eu.west.created.v1")
	}
}

func BenchmarkSubjectMatchLiteral(b *testing.B) {
	b.Run("equal", func(b *testing.B) {
		for b.Loop() {
			sink = Match("orders.eu.west.created.v1", "orders.eu.west.created.v1")
		}
	})
	b.Run("differ-last", func(b *testing.B) {
		for b.Loop() {
			sink = Match("orders.eu.west.created.v1", "orders.eu.west.created.v2")
		}
	})
}

func BenchmarkSubjectMatchWildcard(b *testing.B) {
	for b.Loop() {
		sink = Match("orders.*.west.>", "orders.eu.west.created.v1")
	}
}

// benchPatterns returns n patterns of 3 to 4 tokens: 60% literal, 25%
// with a '*', 15% ending in '>'.
func benchPatterns(n int) []string {
	out := make([]string, n)
	for i := range out {
		svc, region, event := i%97, i/97%13, i%31
		switch i % 20 {
		case 0, 1, 2:
			out[i] = fmt.Sprintf("svc%d.r%d.>", svc, region)
		case 3, 4, 5, 6, 7:
			out[i] = fmt.Sprintf("svc%d.*.e%d", svc, event)
		default:
			out[i] = fmt.Sprintf("svc%d.r%d.e%d.%d", svc, region, event, i)
		}
	}
	return out
}

func benchSubjects(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("svc%d.r%d.e%d.%d", i%97, i/97%13, i%31, i)
	}
	return out
}

func benchIndex(b testing.TB, n int) *Index[int] {
	x := &Index[int]{}
	for i, p := range benchPatterns(n) {
		mustInsert(b, x, p, i)
	}
	return x
}

// BenchmarkSubjectIndexMatch10k matches against 10k patterns: "hit"
// repeats 512 subjects (cache hits), "miss" cycles through 64Ki subjects
// (cache misses: walk and store), and "nocache-*" does the same with the
// cache off.
func BenchmarkSubjectIndexMatch10k(b *testing.B) {
	x, off := benchIndex(b, 10_000), benchIndex(b, 10_000)
	off.SetCacheSize(0)
	few, many := benchSubjects(512), benchSubjects(1<<16)
	b.Run("hit", func(b *testing.B) { benchMatch(b, x, few) })
	b.Run("miss", func(b *testing.B) { benchMatch(b, x, many) })
	b.Run("nocache-few", func(b *testing.B) { benchMatch(b, off, few) })
	b.Run("nocache-many", func(b *testing.B) { benchMatch(b, off, many) })
}

func benchMatch(b *testing.B, x *Index[int], subjects []string) {
	dst, results := make([]int, 0, 64), 0
	for i := 0; b.Loop(); i++ {
		dst = x.Match(subjects[i%len(subjects)], dst[:0])
		results += len(dst)
	}
	b.ReportMetric(float64(results)/float64(b.N), "results/op")
}

func BenchmarkSubjectIndexMatch10kParallel(b *testing.B) {
	x := benchIndex(b, 10_000)
	subjects := benchSubjects(512)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]int, 0, 64)
		for i := 0; pb.Next(); i++ {
			dst = x.Match(subjects[i%len(subjects)], dst[:0])
		}
	})
}

// BenchmarkSubjectIndexInsertRemove inserts and removes one pattern in an
// index of 10k patterns whose cache is full.
func BenchmarkSubjectIndexInsertRemove(b *testing.B) {
	for _, p := range []string{"svc1.r2.e3.new", "svc1.*.e3", "svc1.r2.>"} {
		b.Run(p, func(b *testing.B) {
			x := benchIndex(b, 10_000)
			for _, s := range benchSubjects(DefaultCacheSize) {
				x.Match(s, nil)
				x.Match(s, nil) // admitted on the second miss
			}
			for b.Loop() {
				mustInsert(b, x, p, -1)
				x.Remove(p, -1)
			}
		})
	}
}
