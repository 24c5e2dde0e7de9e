package vfs

import (
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MemFS is an in-memory FS with POSIX-like semantics.
//
// Names and contents are separate, as on a real filesystem: a directory maps
// names to inodes, and an open File holds its inode, not its name. A file that
// is removed or renamed over therefore stays readable and writable through
// the handles already open on it. Directories exist only once created
// (MkdirAll). There is one root: "a", "./a" and "/a" are the same path.
//
// Errors are *fs.PathError (*os.LinkError for Rename) wrapping the same
// values the os package reports: fs.ErrNotExist, fs.ErrClosed, and the
// syscall errnos ENOTDIR, EISDIR, ENOTEMPTY and EBADF (write to a file
// opened read-only).
//
// Locking: mu guards the namespace (every directory's maps); each file inode
// has its own lock for its contents, always taken after mu when both are
// held. MemFS is safe for concurrent use.
type MemFS struct {
	mu    sync.Mutex // guards every directory inode's entries and durable
	root  *inode
	track bool // keep durability state (CrashableFS); immutable
}

// NewMem returns an empty in-memory filesystem.
func NewMem() *MemFS { return &MemFS{root: newDir()} }

// maxFileSize bounds offsets so that a wild offset fails instead of
// allocating memory without limit.
const maxFileSize = 1 << 40

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// split cleans name into its components; the root has none.
func split(name string) ([]string, error) {
	p := strings.TrimPrefix(path.Clean(name), "/")
	if p == "." || p == "" {
		return nil, nil
	}
	parts := strings.Split(p, "/")
	if slices.Contains(parts, "..") {
		return nil, fs.ErrInvalid
	}
	return parts, nil
}

// walk follows parts from the root. Caller holds m.mu.
func (m *MemFS) walk(parts []string) (*inode, error) {
	n := m.root
	for _, p := range parts {
		if !n.dir {
			return nil, syscall.ENOTDIR
		}
		if n = n.entries[p]; n == nil {
			return nil, fs.ErrNotExist
		}
	}
	return n, nil
}

// find returns the inode named name. Caller holds m.mu.
func (m *MemFS) find(name string) (*inode, error) {
	parts, err := split(name)
	if err != nil {
		return nil, err
	}
	return m.walk(parts)
}

// parent returns the directory holding name, and name's last component.
// Caller holds m.mu.
func (m *MemFS) parent(name string) (*inode, string, error) {
	parts, err := split(name)
	if err != nil {
		return nil, "", err
	}
	if len(parts) == 0 {
		return nil, "", fs.ErrInvalid
	}
	dir, err := m.walk(parts[:len(parts)-1])
	if err == nil && !dir.dir {
		err = syscall.ENOTDIR
	}
	return dir, parts[len(parts)-1], err
}

// Create creates or truncates the named file and opens it for writing.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parent(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	n := dir.entries[base]
	switch {
	case n == nil:
		n = &inode{}
		dir.entries[base] = n
	case n.dir:
		return nil, pathErr("open", name, syscall.EISDIR)
	default:
		n.truncate(0)
	}
	return &memFile{m: m, n: n, name: name, writable: true}, nil
}

// Open opens the named file read-only.
func (m *MemFS) Open(name string) (File, error) { return m.open(name, false) }

// OpenReadWrite opens the named file for reading and writing.
func (m *MemFS) OpenReadWrite(name string) (File, error) { return m.open(name, true) }

func (m *MemFS) open(name string, writable bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.find(name)
	if err == nil && n.dir {
		err = syscall.EISDIR
	}
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return &memFile{m: m, n: n, name: name, writable: writable}, nil
}

// Remove unlinks a file or an empty directory. Open handles keep working.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parent(name)
	if err == nil {
		err = removable(dir.entries[base])
	}
	if err != nil {
		return pathErr("remove", name, err)
	}
	delete(dir.entries, base)
	return nil
}

func removable(n *inode) error {
	switch {
	case n == nil:
		return fs.ErrNotExist
	case n.dir && len(n.entries) > 0:
		return syscall.ENOTEMPTY
	}
	return nil
}

// Rename moves oldname to newname, atomically replacing newname if it
// exists (a file by a file, an empty directory by a directory).
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.rename(oldname, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

// rename is Rename without the error decoration. Caller holds m.mu.
func (m *MemFS) rename(oldname, newname string) error {
	odir, obase, err := m.parent(oldname)
	if err != nil {
		return err
	}
	src := odir.entries[obase]
	if src == nil {
		return fs.ErrNotExist
	}
	ndir, nbase, err := m.parent(newname)
	if err != nil {
		return err
	}
	dst := ndir.entries[nbase]
	if dst == src {
		return nil // POSIX: renaming a file onto itself does nothing
	}
	if err := replaceable(src, dst); err != nil {
		return err
	}
	if src.dir && src.holds(ndir) {
		return fs.ErrInvalid // a directory cannot move into itself
	}
	delete(odir.entries, obase)
	ndir.entries[nbase] = src
	return nil
}

// replaceable reports whether src may be renamed over dst (nil if none).
func replaceable(src, dst *inode) error {
	switch {
	case dst == nil:
		return nil
	case src.dir && !dst.dir:
		return syscall.ENOTDIR
	case !src.dir && dst.dir:
		return syscall.EISDIR
	case dst.dir && len(dst.entries) > 0:
		return syscall.ENOTEMPTY
	}
	return nil
}

// MkdirAll creates dir and any missing parents.
func (m *MemFS) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts, err := split(dir)
	if err != nil {
		return pathErr("mkdir", dir, err)
	}
	n := m.root
	for _, p := range parts {
		c := n.entries[p]
		if c == nil {
			c = newDir()
			n.entries[p] = c
		}
		if !c.dir {
			return pathErr("mkdir", dir, syscall.ENOTDIR)
		}
		n = c
	}
	return nil
}

// List returns the sorted names in dir.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.findDir(dir)
	if err != nil {
		return nil, pathErr("open", dir, err)
	}
	return slices.Sorted(maps.Keys(n.entries)), nil
}

// findDir is find for a name that must be a directory. Caller holds m.mu.
func (m *MemFS) findDir(name string) (*inode, error) {
	n, err := m.find(name)
	if err == nil && !n.dir {
		err = syscall.ENOTDIR
	}
	return n, err
}

// Stat describes the named file or directory. ModTime is always zero.
func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.find(name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return fileInfo{name: path.Base(name), size: n.size(), dir: n.dir}, nil
}

// SyncDir checks that dir is a directory. On a CrashableFS it also makes
// dir's current entries the ones that survive a crash.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.findDir(dir)
	if err != nil {
		return pathErr("sync", dir, err)
	}
	if m.track {
		n.durable = maps.Clone(n.entries)
	}
	return nil
}

// fileInfo is MemFS's fs.FileInfo.
type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) IsDir() bool        { return fi.dir }
func (fi fileInfo) ModTime() time.Time { return time.Time{} }
func (fi fileInfo) Sys() any           { return nil }

func (fi fileInfo) Mode() fs.FileMode {
	if fi.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

var _ FS = (*MemFS)(nil)
