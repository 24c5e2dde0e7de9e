package vfs

import (
	"io/fs"
	"os"
	"sort"
)

// Disk is the real filesystem.
var Disk FS = diskFS{}

type diskFS struct{}

type diskFile struct{ *os.File }

func (f diskFile) Size() (int64, error) {
	st, err := f.File.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (diskFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return diskFile{f}, nil
}

func (diskFS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return diskFile{f}, nil
}

func (diskFS) OpenReadWrite(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return diskFile{f}, nil
}

func (diskFS) Remove(name string) error              { return os.Remove(name) }
func (diskFS) Rename(oldname, newname string) error  { return os.Rename(oldname, newname) }
func (diskFS) MkdirAll(dir string) error             { return os.MkdirAll(dir, 0o755) }
func (diskFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

func (diskFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	sort.Strings(names)
	return names, nil
}

func (diskFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
