package log

import (
	"time"

	"github.com/courier-mq/courier/internal/vfs"
)

// Sync timing. When Options.OnSync is set the log reaches its files through
// syncTimer, which reports how long each File.Sync and FS.SyncDir took.
// Wrapping the filesystem keeps the timing out of the append path: the
// writer, the interval syncer, rolls and Close all sync through it, and
// nothing is measured when no hook is set.

// timeSyncs wraps fs so that every sync is reported to onSync; without a
// hook it returns fs unchanged.
func timeSyncs(fs vfs.FS, onSync func(time.Duration)) vfs.FS {
	if onSync == nil {
		return fs
	}
	return syncTimer{FS: fs, onSync: onSync}
}

type syncTimer struct {
	vfs.FS
	onSync func(time.Duration)
}

func (t syncTimer) Create(name string) (vfs.File, error) {
	return t.wrap(t.FS.Create(name))
}

func (t syncTimer) OpenReadWrite(name string) (vfs.File, error) {
	return t.wrap(t.FS.OpenReadWrite(name))
}

func (t syncTimer) SyncDir(dir string) error {
	start := time.Now()
	err := t.FS.SyncDir(dir)
	t.onSync(time.Since(start))
	return err
}

func (t syncTimer) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return timedFile{File: f, onSync: t.onSync}, nil
}

// timedFile reports the duration of each Sync.
type timedFile struct {
	vfs.File
	onSync func(time.Duration)
}

func (f timedFile) Sync() error {
	start := time.Now()
	err := f.File.Sync()
	f.onSync(time.Since(start))
	return err
}
