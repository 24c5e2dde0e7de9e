// Package vfs is the only way Courier's storage reaches a disk.
//
// The log and every other durable component take an FS rather than calling
// the os package, so that one test body can run against four
// implementations:
//
//   - Disk: the real filesystem (os.File, pread/pwrite, fsync).
//   - Mem: an in-memory filesystem with POSIX-like semantics (an open file
//     stays readable after it is removed or renamed over).
//   - Crashable: a Mem that remembers what was made durable. File data is
//     durable once File.Sync returns; a directory entry (create, rename,
//     remove) is durable once SyncDir of its parent returns. Crash returns a
//     new filesystem holding only the durable state, optionally with a torn
//     (random) prefix of the unsynced appended bytes, as a power loss would.
//   - Faulty: wraps any FS and injects errors on any operation, chosen by an
//     Injector.
//
// The model the rest of Courier relies on:
//
//   - Files are written with WriteAt at explicit offsets; there is no shared
//     file position, so concurrent ReadAt calls never race with writers.
//   - Nothing is durable until synced: file contents by File.Sync, names by
//     FS.SyncDir on the parent directory. Code that creates or renames a file
//     and then relies on it after a crash must call both.
//   - Rename replaces the target atomically.
package vfs

import (
	"errors"
	"io"
	"io/fs"
)

// File is an open file. ReadAt and WriteAt take explicit offsets and are
// safe for concurrent use with each other; Truncate and Close are not safe
// against concurrent writes to the same file.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync makes the file's contents durable.
	Sync() error
	// Size returns the current size of the file in bytes.
	Size() (int64, error)
	// Truncate changes the size of the file.
	Truncate(size int64) error
}

// FS is a filesystem. Paths are slash-separated and may be relative.
type FS interface {
	// Create creates the named file for reading and writing, truncating it
	// if it exists.
	Create(name string) (File, error)
	// Open opens an existing file read-only.
	Open(name string) (File, error)
	// OpenReadWrite opens an existing file for reading and writing.
	OpenReadWrite(name string) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// Rename renames oldname to newname, replacing newname if it exists.
	Rename(oldname, newname string) error
	// MkdirAll creates a directory and any missing parents.
	MkdirAll(dir string) error
	// List returns the names (not paths) of the entries in dir, sorted.
	List(dir string) ([]string, error)
	// Stat reports whether name exists, its size and whether it is a
	// directory.
	Stat(name string) (fs.FileInfo, error)
	// SyncDir makes the directory's entries (creates, renames, removes)
	// durable.
	SyncDir(dir string) error
}

// ErrInjected is wrapped by every error the Faulty filesystem injects.
var ErrInjected = errors.New("vfs: injected fault")

// IsNotExist reports whether err says that a file does not exist, for every
// implementation.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
