//go:build linux && (amd64 || arm64)

package logbench

import (
	"os"
	"syscall"
)

const canDropCache = true

// dropCache evicts a file's pages from the page cache
// (posix_fadvise POSIX_FADV_DONTNEED), without touching any other file.
// It syncs first, because only clean pages can be evicted.
func dropCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	const fadvDontNeed = 4
	_, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
