package logbench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeShape is what one write+fsync carries: batches RecordBatches of
// per records each. n appenders of one record each make the shape
// {n, 1} if group commit gathers all of them; one Append of 256 records
// is {1, 256}.
type writeShape struct{ batches, per int }

func (s writeShape) records() int { return s.batches * s.per }

// buf returns the bytes of one write: the batches as the log stores them.
func (s writeShape) buf(valueSize int) []byte {
	return bytes.Repeat(encoded(records(s.per, valueSize)), s.batches)
}

// rawFile appends with plain write(2) and fsync(2), starting a new file
// (and syncing the directory, as the log does for a new segment) every
// segmentBytes, so that every write allocates new blocks like the log's.
type rawFile struct {
	dir  string
	f    *os.File
	size int64
	n    int
}

func newRawFile(dir string) (*rawFile, error) {
	w := &rawFile{dir: dir}
	return w, w.next()
}

func (w *rawFile) writeSync(p []byte) error {
	if w.size+int64(len(p)) > segmentBytes {
		if err := w.next(); err != nil {
			return err
		}
	}
	if _, err := w.f.Write(p); err != nil {
		return err
	}
	w.size += int64(len(p))
	return w.f.Sync()
}

func (w *rawFile) next() error {
	w.Close()
	f, err := os.Create(filepath.Join(w.dir, fmt.Sprintf("raw-%04d.dat", w.n)))
	if err != nil {
		return err
	}
	w.f, w.size, w.n = f, 0, w.n+1
	return syncDir(w.dir)
}

func (w *rawFile) Close() {
	if w.f != nil {
		w.f.Close()
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// rawWriter is the write+fsync baseline: writes of one shape into a
// rawFile in its own directory under baseDir. The shape may change
// between runs.
type rawWriter struct {
	b     *testing.B
	f     *rawFile
	size  int // value size
	shape writeShape
	buf   []byte
}

func newRawWriter(b *testing.B, s writeShape, valueSize int) *rawWriter {
	f, err := newRawFile(benchDir(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.Close)
	return &rawWriter{b: b, f: f, size: valueSize, shape: s, buf: s.buf(valueSize)}
}

func (w *rawWriter) setShape(s writeShape) {
	if s != w.shape {
		w.shape, w.buf = s, s.buf(w.size)
	}
}

// run writes and fsyncs w.buf over and over for d (at least once).
func (w *rawWriter) run(d time.Duration) *run {
	r := &run{}
	start := time.Now()
	for r.elapsed < d || r.ops == 0 {
		t0 := time.Now()
		if err := w.f.writeSync(w.buf); err != nil {
			w.b.Fatal(err)
		}
		r.lat = append(r.lat, time.Since(t0))
		r.ops++
		r.elapsed = time.Since(start)
	}
	r.records = int64(r.ops * w.shape.records())
	r.bytes = int64(r.ops * len(w.buf))
	return r
}

// rawReader is the page cache's limit for sequential reads of a log: its
// segment files read front to back, round and round, with chunk-sized
// pread(2) calls into one reused buffer.
type rawReader struct {
	b     *testing.B
	paths []string
	buf   []byte
	i     int
	f     *os.File
	pos   int64
}

func newRawReader(b *testing.B, paths []string, chunk int) *rawReader {
	r := &rawReader{b: b, paths: paths, buf: make([]byte, chunk)}
	b.Cleanup(r.close)
	return r
}

func (r *rawReader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// read reads one chunk and returns its length.
func (r *rawReader) read() int {
	if r.f == nil {
		f, err := os.Open(r.paths[r.i])
		if err != nil {
			r.b.Fatal(err)
		}
		r.f, r.pos = f, 0
	}
	n, err := r.f.ReadAt(r.buf, r.pos)
	r.pos += int64(n)
	if err == io.EOF {
		r.close()
		r.i = (r.i + 1) % len(r.paths)
	} else if err != nil {
		r.b.Fatal(err)
	}
	return n
}

// run reads for d (at least once).
func (r *rawReader) run(d time.Duration) *run {
	res := &run{}
	start := time.Now()
	for res.elapsed < d || res.ops == 0 {
		res.bytes += int64(r.read())
		res.ops++
		res.elapsed = time.Since(start)
	}
	return res
}

// rawRead reads files from start to end in pread(2) calls of len(buf)
// bytes into one reused buffer and returns the bytes read.
func rawRead(paths []string, buf []byte) (int64, error) {
	var total int64
	for _, p := range paths {
		n, err := rawReadFile(p, buf)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func rawReadFile(path string, buf []byte) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var pos int64
	for {
		n, err := f.ReadAt(buf, pos)
		pos += int64(n)
		if err == io.EOF {
			return pos, nil
		}
		if err != nil {
			return pos, err
		}
	}
}
