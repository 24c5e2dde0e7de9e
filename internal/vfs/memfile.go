package vfs

import (
	"io"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
)

// inode is a MemFS file or directory, independent of the names that reach
// it.
//
// For crash tracking (CrashableFS) a file also keeps synced, its contents as
// of the last Sync, and the dirty range [lo, hi): every offset below
// len(synced) at which data may have changed since. Offsets from len(synced)
// on are new and copied anyway. So Sync copies only the dirty range and the
// bytes appended since the last Sync, never the whole file; and the dirty
// range is empty exactly when the file has only been appended to, which is
// when a crash may tear its tail (CrashOptions.TornTail).
type inode struct {
	dir bool

	// Directories; guarded by MemFS.mu.
	entries map[string]*inode
	durable map[string]*inode // entries as of the last SyncDir (crash tracking)

	// Files.
	mu     sync.RWMutex
	data   []byte
	synced []byte // contents as of the last Sync (crash tracking)
	lo, hi int    // dirty range within synced; empty if lo >= hi
}

func newDir() *inode { return &inode{dir: true, entries: map[string]*inode{}} }

// holds reports whether d is n or lies under n. Caller holds MemFS.mu.
func (n *inode) holds(d *inode) bool {
	if n == d {
		return true
	}
	for _, c := range n.entries {
		if c.dir && c.holds(d) {
			return true
		}
	}
	return false
}

func (n *inode) size() int64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return int64(len(n.data))
}

// readAt behaves like os.File.ReadAt: a short read ends with io.EOF.
func (n *inode) readAt(p []byte, off int64) (int, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if off >= int64(len(n.data)) {
		return 0, io.EOF
	}
	k := copy(p, n.data[off:])
	if k < len(p) {
		return k, io.EOF
	}
	return k, nil
}

func (n *inode) writeAt(p []byte, off int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if end := int(off) + len(p); end > len(n.data) {
		n.resize(end)
	}
	copy(n.data[off:], p)
	n.markDirty(int(off), int(off)+len(p))
}

func (n *inode) truncate(size int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.resize(int(size))
	n.markDirty(int(size), len(n.synced))
}

// markDirty adds [lo, hi) ∩ [0, len(n.synced)) to the dirty range. Caller
// holds n.mu.
func (n *inode) markDirty(lo, hi int) {
	hi = min(hi, len(n.synced))
	switch {
	case lo >= hi:
	case n.lo >= n.hi:
		n.lo, n.hi = lo, hi
	default:
		n.lo, n.hi = min(n.lo, lo), max(n.hi, hi)
	}
}

// appendedOnly reports whether the file has only grown by appends since the
// last Sync. Caller holds n.mu.
func (n *inode) appendedOnly() bool {
	return n.lo >= n.hi && len(n.data) > len(n.synced)
}

// resize sets len(n.data) to size, zeroing the bytes it exposes (capacity
// may hold stale bytes from before a truncation). Caller holds n.mu.
func (n *inode) resize(size int) {
	old := len(n.data)
	if size <= old {
		n.data = n.data[:size]
		return
	}
	n.data = slices.Grow(n.data, size-old)[:size]
	clear(n.data[old:])
}

// sync makes the current contents the durable ones, copying only the
// dirty range and the bytes past the old synced length.
func (n *inode) sync() {
	n.mu.Lock()
	defer n.mu.Unlock()
	keep := min(len(n.synced), len(n.data))
	n.synced = append(n.synced[:keep], n.data[keep:]...)
	lo, hi := min(n.lo, keep), min(n.hi, keep)
	copy(n.synced[lo:hi], n.data[lo:hi])
	n.lo, n.hi = 0, 0
}

// memFile is an open MemFS file: a handle on an inode, not on a name.
type memFile struct {
	m        *MemFS
	n        *inode
	name     string // as opened, for errors
	writable bool
	closed   atomic.Bool
}

// check returns the error for op on f, if f is closed or op writes to a
// read-only file.
func (f *memFile) check(op string, write bool) error {
	if f.closed.Load() {
		return pathErr(op, f.name, fs.ErrClosed)
	}
	if write && !f.writable {
		return pathErr(op, f.name, syscall.EBADF)
	}
	return nil
}

// inRange reports whether [off, end) is a valid byte range for a file.
func inRange(off, end int64) bool { return 0 <= off && end <= maxFileSize }

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if !inRange(off, off) {
		return 0, pathErr("read", f.name, fs.ErrInvalid)
	}
	if len(p) == 0 {
		return 0, nil
	}
	return f.n.readAt(p, off)
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if !inRange(off, off+int64(len(p))) {
		return 0, pathErr("write", f.name, fs.ErrInvalid)
	}
	if len(p) > 0 {
		f.n.writeAt(p, off)
	}
	return len(p), nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if !inRange(size, size) {
		return pathErr("truncate", f.name, fs.ErrInvalid)
	}
	f.n.truncate(size)
	return nil
}

// Sync makes the contents durable (meaningful on a CrashableFS only).
func (f *memFile) Sync() error {
	if err := f.check("sync", false); err != nil {
		return err
	}
	if f.m.track {
		f.n.sync()
	}
	return nil
}

func (f *memFile) Size() (int64, error) {
	if err := f.check("stat", false); err != nil {
		return 0, err
	}
	return f.n.size(), nil
}

func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	return nil
}
