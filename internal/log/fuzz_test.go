package log

import (
	"bytes"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/courier-mq/courier/internal/vfs"
)

const fuzzRecords = 60

// fuzzLog builds a small cleanly closed log of several segments.
func fuzzLog(t *testing.T) (*vfs.MemFS, []Record) {
	fs := vfs.NewMem()
	l := mustOpen(t, "f", Options{FS: fs, MaxSegmentBytes: 700, IndexInterval: 100})
	var want []Record
	for i := 0; i < fuzzRecords; i += 3 {
		recs := []Record{rec(i, "k"), rec(i+1, "k"), rec(i+2, "k")}
		off := mustAppend(t, l, recs...)
		for j := range recs {
			recs[j].Offset = off + int64(j)
		}
		want = append(want, recs...)
	}
	mustClose(t, l)
	return fs, want
}

// FuzzLogOpenDamaged damages one byte, or cuts one file, of a log's
// segments, indexes or start checkpoint, then opens and reads it. Opening
// and reading never panic; every error is ErrCorrupt; every record read is
// exactly the one written at its offset; and a cut in the last segment (a
// torn tail) is recovered with every batch before the cut intact.
func FuzzLogOpenDamaged(f *testing.F) {
	f.Add(uint8(0), uint32(30), uint8(0x10), false, false)
	f.Add(uint8(1), uint32(5), uint8(0x01), false, false)
	f.Add(uint8(255), uint32(300), uint8(0), true, false)
	f.Add(uint8(254), uint32(100), uint8(0x80), false, true)
	f.Add(uint8(3), uint32(17), uint8(0xff), true, true)
	f.Fuzz(func(t *testing.T, file uint8, pos uint32, xor uint8, cut, dropLastIndex bool) {
		fs, want := fuzzLog(t)
		names, _ := fs.List("f")
		target := path.Join("f", names[int(file)%len(names)])
		lastSeg := lastSegment(names)
		if dropLastIndex {
			fs.Remove(path.Join("f", strings.TrimSuffix(lastSeg, segSuffix)+indexSuffix))
		}
		size, cutAt := damage(t, fs, target, pos, xor, cut)
		l, err := Open("f", Options{FS: fs, JanitorInterval: -1})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open: %v, not ErrCorrupt", err)
			}
			if cut && target == path.Join("f", lastSeg) {
				t.Fatalf("a cut last segment (torn tail) was not recovered: %v", err)
			}
			return
		}
		defer l.Close()
		got := readTolerant(t, l)
		for _, r := range got {
			w := want[r.Offset]
			if !bytes.Equal(r.Value, w.Value) || !bytes.Equal(r.Key, w.Key) || r.Timestamp != w.Timestamp {
				t.Fatalf("offset %d read back altered: %+v", r.Offset, r)
			}
		}
		if cut && target == path.Join("f", lastSeg) && cutAt < size {
			if l.HighWatermark() < lastSegBase(lastSeg) {
				t.Fatalf("torn tail recovery lost sealed data: hw %d", l.HighWatermark())
			}
		}
	})
}

func lastSegment(names []string) string {
	last := ""
	for _, n := range names {
		if strings.HasSuffix(n, segSuffix) {
			last = n
		}
	}
	return last
}

func lastSegBase(name string) int64 {
	b, _ := parseSegName(name)
	return b
}

// damage flips one byte of a file or cuts it, returning its size and the
// cut position.
func damage(t *testing.T, fs *vfs.MemFS, name string, pos uint32, xor uint8, cut bool) (int64, int64) {
	f, err := fs.OpenReadWrite(name)
	if err != nil {
		return 0, 0 // the last index, already dropped
	}
	defer f.Close()
	size, _ := f.Size()
	if size == 0 {
		return 0, 0
	}
	at := int64(pos) % size
	if cut {
		f.Truncate(at)
		return size, at
	}
	b := []byte{0}
	f.ReadAt(b, at)
	b[0] ^= xor | 1
	f.WriteAt(b, at)
	return size, size
}

// readTolerant reads everything it can, stepping over corrupt batches,
// and requires every error to be ErrCorrupt.
func readTolerant(t *testing.T, l *Log) []Record {
	var out []Record
	for off := l.StartOffset(); off < l.HighWatermark(); {
		c, err := l.Read(off, 300)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read %d: %v, not ErrCorrupt", off, err)
			}
			off++
			continue
		}
		if len(c.Data) == 0 {
			break
		}
		err = DecodeRecords(c.Data, off, func(r Record) bool { out = append(out, cloneRecord(r)); return true })
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("decode: %v", err)
		}
		if c.Next <= off {
			t.Fatalf("read at %d made no progress", off)
		}
		off = c.Next
	}
	return out
}
