package kafka

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
	kproto "github.com/courier-mq/courier/internal/proto/kafka"
	"github.com/courier-mq/courier/server"
	"github.com/twmb/franz-go/pkg/kgo"
)

// courier is an in-process Courier server with a Kafka listener on
// 127.0.0.1:0.
type courier struct {
	dir    string
	srv    *server.Server
	k      *kproto.Server
	addr   string
	served chan error
}

func startCourier(dir string) (*courier, error) {
	srv, err := server.New(server.Options{DataDir: dir})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Shutdown(context.Background())
		return nil, err
	}
	c := &courier{dir: dir, srv: srv, k: kproto.New(srv, kproto.Options{}), addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { c.served <- c.k.Serve(ln) }()
	return c, nil
}

func startCourierB(b *testing.B, dir string) *courier {
	c, err := startCourier(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.stop)
	return c
}

func (c *courier) stop() {
	if c.k == nil {
		return
	}
	c.k.Close()
	<-c.served
	c.srv.Shutdown(context.Background())
	c.k = nil
}

// createTopic makes a durable stream that the Kafka front-end serves as a
// topic (the subjects the front-end gives the topics it creates).
func (c *courier) createTopic(name string, parts int, sync string) error {
	_, err := c.srv.CreateStream(server.StreamConfig{Name: name, Subjects: []string{name, name + ".>"}, Partitions: parts, Sync: sync})
	return err
}

func (c *courier) client(opts ...kgo.Opt) (*kgo.Client, error) {
	base := []kgo.Opt{kgo.SeedBrokers(c.addr), kgo.ProducerBatchCompression(kgo.NoCompression())}
	return kgo.NewClient(append(base, opts...)...)
}

// segmentFiles lists the partition log segments (*.log) under dir.
func segmentFiles(dir string) ([]string, int64, error) {
	var paths []string
	var total int64
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".log") {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			paths = append(paths, p)
			total += fi.Size()
		}
		return nil
	})
	return paths, total, err
}

// benchDir is where data goes: COURIER_BENCH_DIR, or the system temp dir.
func benchDir(b *testing.B) string {
	if d := os.Getenv("COURIER_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "kafkabench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// envBytes reads a byte size such as 1GiB, 256MiB or 1000000.
func envBytes(name string, def int64) int64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		panic(fmt.Sprintf("%s=%q: not a byte size", name, os.Getenv(name)))
	}
	return n * mult
}

// rawWriter is the write+fsync baseline: writes of len(buf) bytes, each
// followed by fsync, into files of at most 128 MiB in its own directory
// (a new file, and an fsync of the directory, as the log does per
// segment).
type rawWriter struct {
	dir  string
	f    *os.File
	size int64
	n    int
	buf  []byte
}

const rawFileBytes = 128 << 20

func newRawWriter(b *testing.B, dir string, write int) *rawWriter {
	w := &rawWriter{dir: dir, buf: harness.Payload(write)}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := w.next(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.close)
	return w
}

func (w *rawWriter) next() error {
	w.close()
	if w.n > 0 { // keep the disk's usage bounded: drop the previous file
		os.Remove(filepath.Join(w.dir, fmt.Sprintf("raw-%04d.dat", w.n-1)))
	}
	f, err := os.Create(filepath.Join(w.dir, fmt.Sprintf("raw-%04d.dat", w.n)))
	if err != nil {
		return err
	}
	w.f, w.size, w.n = f, 0, w.n+1
	d, err := os.Open(w.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (w *rawWriter) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// run writes and fsyncs for d (at least once). Msgs counts writes; Lat is
// per write+fsync.
func (w *rawWriter) run(d time.Duration) (*harness.Run, error) {
	r := &harness.Run{}
	start := time.Now()
	for r.Elapsed < d || r.Msgs == 0 {
		if w.size+int64(len(w.buf)) > rawFileBytes {
			if err := w.next(); err != nil {
				return nil, err
			}
		}
		t0 := time.Now()
		if _, err := w.f.Write(w.buf); err != nil {
			return nil, err
		}
		if err := w.f.Sync(); err != nil {
			return nil, err
		}
		w.size += int64(len(w.buf))
		r.Lat = append(r.Lat, time.Since(t0))
		r.Msgs++
		r.Elapsed = time.Since(start)
	}
	return r, nil
}

// rawRead reads files front to back with pread(2) calls of len(buf) bytes
// into one reused buffer and returns the bytes read.
func rawRead(paths []string, buf []byte) (int64, error) {
	var total int64
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return total, err
		}
		var pos int64
		for {
			n, err := f.ReadAt(buf, pos)
			pos += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return total, err
			}
		}
		f.Close()
		total += pos
	}
	return total, nil
}

// rawGroup is the write+fsync baseline of n producers: n rawWriters in
// directories of their own, writing at the same time.
type rawGroup []*rawWriter

func newRawGroup(b *testing.B, dir string, n, write int) rawGroup {
	g := make(rawGroup, n)
	for i := range g {
		g[i] = newRawWriter(b, filepath.Join(dir, fmt.Sprintf("raw%d", i)), write)
	}
	return g
}

// run runs every writer for d at once. Msgs sums the writes; Elapsed is
// the longest writer's; Lat has every write+fsync.
func (g rawGroup) run(d time.Duration) (*harness.Run, error) {
	runs := make([]*harness.Run, len(g))
	errs := make([]error, len(g))
	var wg sync.WaitGroup
	for i, w := range g {
		wg.Go(func() { runs[i], errs[i] = w.run(d) })
	}
	wg.Wait()
	sum := &harness.Run{}
	for i, r := range runs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		sum.Msgs += r.Msgs
		sum.Elapsed = max(sum.Elapsed, r.Elapsed)
		sum.Lat = append(sum.Lat, r.Lat...)
	}
	return sum, nil
}

// batchStats counts the batches kgo wrote (a kgo hook).
type batchStats struct {
	batches, records, bytes atomic.Int64
}

func (s *batchStats) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	s.batches.Add(1)
	s.records.Add(int64(m.NumRecords))
	s.bytes.Add(int64(m.UncompressedBytes))
}

// sharedRead is the topic BenchmarkKafkaConsume reads, filled once per
// process.
type sharedRead struct {
	once    sync.Once
	err     error
	dir     string
	c       *courier
	records int64
	value   int64 // value bytes
	paths   []string
	stored  int64 // bytes of the segment files
	fill    time.Duration
}

var readEnv sharedRead

func (s *sharedRead) close() {
	if s.c != nil {
		s.c.stop()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
