package vfs

import (
	"errors"
	"fmt"
	"io/fs"
)

// FaultyFS wraps an FS and asks an Injector before every operation, on the
// filesystem and on every file it opens. When the Injector returns an error
// the operation is not performed (not even Close: the file stays open) and
// an *InjectedError is returned. The one exception is a ShortWrite for
// OpWrite: the write's first ShortWrite.N bytes reach the inner file first,
// as when a disk fills up mid-write.
//
// The path given to the Injector is the name as passed in; for a File
// operation, the name the file was opened by; for Rename, "old -> new".
type FaultyFS struct {
	inner FS
	inj   Injector
}

// NewFaulty wraps inner. A nil inj injects nothing.
func NewFaulty(inner FS, inj Injector) *FaultyFS { return &FaultyFS{inner: inner, inj: inj} }

// InjectedError is the error of an injected fault. errors.Is matches both
// ErrInjected and whatever the Injector returned (say, syscall.ENOSPC).
type InjectedError struct {
	Op   Op
	Path string
	Err  error // as returned by the Injector
}

func (e *InjectedError) Error() string {
	s := fmt.Sprintf("%v: %v %s", ErrInjected, e.Op, e.Path)
	if e.Err != ErrInjected {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *InjectedError) Unwrap() []error { return []error{ErrInjected, e.Err} }

// ShortWrite, returned by an Injector for OpWrite (as a value, not a
// pointer), makes the write store its first N bytes before failing.
type ShortWrite struct {
	N   int
	Err error // optional cause, such as syscall.ENOSPC
}

func (s ShortWrite) Error() string {
	msg := fmt.Sprintf("short write of %d bytes", s.N)
	if s.Err != nil {
		msg += ": " + s.Err.Error()
	}
	return msg
}

func (s ShortWrite) Unwrap() error { return s.Err }

func (f *FaultyFS) inject(op Op, path string) error {
	if f.inj == nil {
		return nil
	}
	if err := f.inj.Inject(op, path); err != nil {
		return &InjectedError{Op: op, Path: path, Err: err}
	}
	return nil
}

func (f *FaultyFS) open(op Op, name string, open func(string) (File, error)) (File, error) {
	if err := f.inject(op, name); err != nil {
		return nil, err
	}
	file, err := open(name)
	if err != nil {
		return nil, err
	}
	return &faultyFile{inner: file, fs: f, name: name}, nil
}

func (f *FaultyFS) Create(name string) (File, error) {
	return f.open(OpCreate, name, f.inner.Create)
}

func (f *FaultyFS) Open(name string) (File, error) {
	return f.open(OpOpen, name, f.inner.Open)
}

func (f *FaultyFS) OpenReadWrite(name string) (File, error) {
	return f.open(OpOpenReadWrite, name, f.inner.OpenReadWrite)
}

// do injects op on name, and if no fault comes, runs fn.
func (f *FaultyFS) do(op Op, name string, fn func() error) error {
	if err := f.inject(op, name); err != nil {
		return err
	}
	return fn()
}

func (f *FaultyFS) Remove(name string) error {
	return f.do(OpRemove, name, func() error { return f.inner.Remove(name) })
}

func (f *FaultyFS) Rename(oldname, newname string) error {
	return f.do(OpRename, oldname+" -> "+newname, func() error { return f.inner.Rename(oldname, newname) })
}

func (f *FaultyFS) MkdirAll(dir string) error {
	return f.do(OpMkdirAll, dir, func() error { return f.inner.MkdirAll(dir) })
}

func (f *FaultyFS) SyncDir(dir string) error {
	return f.do(OpSyncDir, dir, func() error { return f.inner.SyncDir(dir) })
}

func (f *FaultyFS) List(dir string) ([]string, error) {
	if err := f.inject(OpList, dir); err != nil {
		return nil, err
	}
	return f.inner.List(dir)
}

func (f *FaultyFS) Stat(name string) (fs.FileInfo, error) {
	if err := f.inject(OpStat, name); err != nil {
		return nil, err
	}
	return f.inner.Stat(name)
}

// faultyFile is a File of a FaultyFS.
type faultyFile struct {
	inner File
	fs    *FaultyFS
	name  string
}

func (f *faultyFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.inject(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.inner.ReadAt(p, off)
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	err := f.fs.inject(OpWrite, f.name)
	if err == nil {
		return f.inner.WriteAt(p, off)
	}
	var short ShortWrite
	if !errors.As(err, &short) {
		return 0, err
	}
	n, werr := f.inner.WriteAt(p[:min(max(short.N, 0), len(p))], off)
	if werr != nil {
		return n, werr
	}
	return n, err
}

func (f *faultyFile) Sync() error {
	return f.fs.do(OpSync, f.name, f.inner.Sync)
}

func (f *faultyFile) Truncate(size int64) error {
	return f.fs.do(OpTruncate, f.name, func() error { return f.inner.Truncate(size) })
}

func (f *faultyFile) Size() (int64, error) {
	if err := f.fs.inject(OpSize, f.name); err != nil {
		return 0, err
	}
	return f.inner.Size()
}

func (f *faultyFile) Close() error {
	return f.fs.do(OpClose, f.name, f.inner.Close)
}

var _ FS = (*FaultyFS)(nil)
