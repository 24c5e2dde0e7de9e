package logbench

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/log"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30

	segmentBytes = 128 * mib // the log's default MaxSegmentBytes
)

// recordSizes are the value sizes the append benchmarks use.
var recordSizes = []int{128, 1 * kib}

func sizeName(n int) string {
	if n%mib == 0 {
		return strconv.Itoa(n/mib) + "MiB"
	}
	if n%kib == 0 {
		return strconv.Itoa(n/kib) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// baseDir is where data goes: COURIER_BENCH_DIR, or the system temp dir
// (the same one b.TempDir uses).
func baseDir() string {
	if d := os.Getenv("COURIER_BENCH_DIR"); d != "" {
		return d
	}
	return os.TempDir()
}

// benchDir returns a fresh directory under baseDir, removed when b ends.
func benchDir(b *testing.B) string {
	b.Helper()
	d, err := os.MkdirTemp(baseDir(), "logbench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(d) })
	return d
}

var fixtures struct {
	sync.Mutex
	dirs map[string]string // name -> built directory
}

// fixture returns the directory of a shared data set, building it with
// build on first use. Fixtures outlive single benchmarks (they are costly
// to build) and are removed by TestMain.
func fixture(b *testing.B, name string, build func(dir string) error) string {
	b.Helper()
	fixtures.Lock()
	defer fixtures.Unlock()
	if d, ok := fixtures.dirs[name]; ok {
		return d
	}
	d, err := os.MkdirTemp(baseDir(), "logbench-fixture-"+name+"-")
	if err != nil {
		b.Fatal(err)
	}
	if fixtures.dirs == nil {
		fixtures.dirs = map[string]string{}
	}
	fixtures.dirs[name] = d
	start := time.Now()
	if err := build(d); err != nil {
		b.Fatalf("build fixture %s: %v", name, err)
	}
	b.Logf("fixture %s built in %v", name, time.Since(start).Round(time.Millisecond))
	return d
}

func removeFixtures() {
	fixtures.Lock()
	defer fixtures.Unlock()
	for _, d := range fixtures.dirs {
		os.RemoveAll(d)
	}
}

// envBytes reads a size such as 1GiB, 256MiB, 64KiB or 1000 from the
// environment.
func envBytes(b *testing.B, name string, def int64) int64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": kib, "MiB": mib, "GiB": gib} {
		if num, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = num, m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive size like 1GiB", name, os.Getenv(name))
	}
	return n * mult
}

// payload returns n incompressible bytes, the same for every call.
func payload(n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// records returns n records of a size-byte value each.
func records(n, size int) []log.Record {
	v := payload(size)
	recs := make([]log.Record, n)
	for i := range recs {
		recs[i].Value = v
	}
	return recs
}

// encoded returns the bytes the log stores for one Append of recs: one
// RecordBatch v2, as Append encodes it.
func encoded(recs []log.Record) []byte {
	return log.EncodeBatch(nil, recs, time.Now().UnixMilli())
}
