package log

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"sort"

	"github.com/courier-mq/courier/internal/vfs"
)

// indexEntry is one sparse index point: the batch starting at offset off
// is at byte pos, and every record up to the end of that batch has a
// timestamp of at most ts. The same entries serve as the offset index
// (offset to position) and the time index (time to offset).
type indexEntry struct {
	off int64
	pos int64
	ts  int64
}

const (
	indexEntrySize   = 16 // rel offset u32, pos u32, ts i64
	indexTrailerSize = 48 // size, next, count, maxTS, firstTS, n u32, crc u32
	indexMagic       = "CIX1"
)

// segMeta is what a segment's index records about the segment as a whole.
type segMeta struct {
	size    int64
	next    int64
	count   int64
	maxTS   int64
	firstTS int64
}

// encodeIndex lays out the index file of a sealed or cleanly closed segment.
func encodeIndex(base int64, entries []indexEntry, m segMeta) []byte {
	b := make([]byte, 0, len(entries)*indexEntrySize+indexTrailerSize+len(indexMagic))
	be := binary.BigEndian
	for _, e := range entries {
		b = be.AppendUint32(b, uint32(e.off-base))
		b = be.AppendUint32(b, uint32(e.pos))
		b = be.AppendUint64(b, uint64(e.ts))
	}
	b = be.AppendUint64(b, uint64(m.size))
	b = be.AppendUint64(b, uint64(m.next))
	b = be.AppendUint64(b, uint64(m.count))
	b = be.AppendUint64(b, uint64(m.maxTS))
	b = be.AppendUint64(b, uint64(m.firstTS))
	b = be.AppendUint32(b, uint32(len(entries)))
	b = be.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return append(b, indexMagic...)
}

var errBadIndex = errors.New("index damaged")

// decodeIndex parses an index file. Any damage is errBadIndex: the caller
// rebuilds the index from the segment.
func decodeIndex(base int64, b []byte) ([]indexEntry, segMeta, error) {
	var m segMeta
	tail := indexTrailerSize + len(indexMagic)
	if len(b) < tail || string(b[len(b)-len(indexMagic):]) != indexMagic {
		return nil, m, errBadIndex
	}
	be := binary.BigEndian
	t := b[len(b)-tail:]
	body := b[:len(b)-len(indexMagic)-4]
	if crc32.Checksum(body, castagnoli) != be.Uint32(t[44:]) {
		return nil, m, errBadIndex
	}
	m = segMeta{size: int64(be.Uint64(t)), next: int64(be.Uint64(t[8:])), count: int64(be.Uint64(t[16:])),
		maxTS: int64(be.Uint64(t[24:])), firstTS: int64(be.Uint64(t[32:]))}
	n := int(be.Uint32(t[40:]))
	if n*indexEntrySize != len(b)-tail {
		return nil, m, errBadIndex
	}
	entries := make([]indexEntry, n)
	for i := range entries {
		e := b[i*indexEntrySize:]
		entries[i] = indexEntry{off: base + int64(be.Uint32(e)), pos: int64(be.Uint32(e[4:])), ts: int64(be.Uint64(e[8:]))}
	}
	return entries, m, nil
}

// writeFileSync writes a whole file and syncs it (not its directory).
func writeFileSync(fs vfs.FS, path string, data []byte) error {
	f, err := fs.Create(path)
	if err != nil {
		return err
	}
	if _, err = f.WriteAt(data, 0); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readFile reads a whole file.
func readFile(fs vfs.FS, path string) ([]byte, error) {
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && n > 0 {
		return nil, err
	}
	return b, nil
}

// seekIndex returns the last entry at or before offset (or a zero entry at
// the segment start).
func seekIndex(entries []indexEntry, offset int64) indexEntry {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].off > offset })
	if i == 0 {
		return indexEntry{}
	}
	return entries[i-1]
}

// seekTime returns the last entry whose ts is below t: every record before
// the end of that entry's batch is older than t, so a scan for t may start
// at that batch.
func seekTime(entries []indexEntry, t int64) (indexEntry, bool) {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].ts >= t })
	if i == 0 {
		return indexEntry{}, false
	}
	return entries[i-1], true
}
