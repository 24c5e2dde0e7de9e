package vfs

import (
	"bytes"
	"io"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// impls lists every FS; each returns a fresh filesystem and an existing,
// empty directory in it to work under.
var impls = []struct {
	name string
	new  func(t *testing.T) (FS, string)
}{
	{"Disk", func(t *testing.T) (FS, string) { return Disk, filepath.ToSlash(t.TempDir()) }},
	{"Mem", func(t *testing.T) (FS, string) { return mkdir(t, NewMem()) }},
	{"Crashable", func(t *testing.T) (FS, string) { return mkdir(t, NewCrashable()) }},
	{"Faulty", func(t *testing.T) (FS, string) {
		return mkdir(t, NewFaulty(NewMem(), InjectorFunc(func(Op, string) error { return nil })))
	}},
}

func mkdir(t *testing.T, fsys FS) (FS, string) {
	t.Helper()
	must(t, fsys.MkdirAll("work"))
	return fsys, "work"
}

// behaviours is the one test body: each check runs on every implementation.
var behaviours = []struct {
	name  string
	check func(t *testing.T, fsys FS, dir string)
}{
	{"WriteReadSize", checkWriteReadSize},
	{"ReadPastEnd", checkReadPastEnd},
	{"WritePastEnd", checkWritePastEnd},
	{"Truncate", checkTruncate},
	{"CreateTruncates", checkCreateTruncates},
	{"RenameOver", checkRenameOver},
	{"RemoveWhileOpen", checkRemoveWhileOpen},
	{"List", checkList},
	{"Stat", checkStat},
	{"SyncDir", checkSyncDir},
	{"Missing", checkMissing},
	{"ReadOnly", checkReadOnly},
	{"Closed", checkClosed},
	{"RemoveDir", checkRemoveDir},
	{"SharedInode", checkSharedInode},
	{"ConcurrentReadWrite", checkConcurrentReadWrite},
}

func TestVFSBehaviour(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			for _, b := range behaviours {
				t.Run(b.name, func(t *testing.T) {
					fsys, dir := impl.new(t)
					b.check(t, fsys, dir)
				})
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, fsys FS, name, content string) File {
	t.Helper()
	f, err := fsys.Create(name)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	write(t, f, 0, content)
	return f
}

func write(t *testing.T, f File, off int64, s string) {
	t.Helper()
	if n, err := f.WriteAt([]byte(s), off); err != nil || n != len(s) {
		t.Fatalf("WriteAt(%q, %d) = %d, %v", s, off, n, err)
	}
}

// contents reads all of f.
func contents(t *testing.T, f File) string {
	t.Helper()
	size, err := f.Size()
	must(t, err)
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); n != len(buf) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	return string(buf)
}

// readFile opens name and reads all of it.
func readFile(t *testing.T, fsys FS, name string) string {
	t.Helper()
	f, err := fsys.Open(name)
	must(t, err)
	defer f.Close()
	return contents(t, f)
}

func wantContents(t *testing.T, f File, want string) {
	t.Helper()
	if got := contents(t, f); got != want {
		t.Fatalf("contents = %q, want %q", got, want)
	}
}

func wantNotExist(t *testing.T, what string, err error) {
	t.Helper()
	if !IsNotExist(err) {
		t.Fatalf("%s: err = %v, want not-exist", what, err)
	}
}

func checkWriteReadSize(t *testing.T, fsys FS, dir string) {
	f := create(t, fsys, path.Join(dir, "f"), "hello")
	write(t, f, 5, "world")
	if size, err := f.Size(); err != nil || size != 10 {
		t.Fatalf("Size = %d, %v", size, err)
	}
	wantContents(t, f, "helloworld")
	write(t, f, 0, "J")
	buf := make([]byte, 4)
	if n, err := f.ReadAt(buf, 0); n != 4 || err != nil || string(buf) != "Jell" {
		t.Fatalf("ReadAt = %d, %v, %q", n, err, buf)
	}
}

func checkReadPastEnd(t *testing.T, fsys FS, dir string) {
	f := create(t, fsys, path.Join(dir, "f"), "abc")
	buf := make([]byte, 5)
	if n, err := f.ReadAt(buf, 1); n != 2 || err != io.EOF || string(buf[:n]) != "bc" {
		t.Fatalf("ReadAt across end = %d, %v", n, err)
	}
	if n, err := f.ReadAt(buf, 3); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at end = %d, %v", n, err)
	}
	if n, err := f.ReadAt(buf, 100); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt past end = %d, %v", n, err)
	}
}

func checkWritePastEnd(t *testing.T, fsys FS, dir string) {
	f := create(t, fsys, path.Join(dir, "f"), "ab")
	write(t, f, 5, "z")
	wantContents(t, f, "ab\x00\x00\x00z")
	write(t, f, 100, "") // an empty write extends nothing
	wantContents(t, f, "ab\x00\x00\x00z")
}

func checkTruncate(t *testing.T, fsys FS, dir string) {
	f := create(t, fsys, path.Join(dir, "f"), "abcdefgh")
	must(t, f.Truncate(3))
	wantContents(t, f, "abc")
	must(t, f.Truncate(6)) // grows with zeros, not the old bytes
	wantContents(t, f, "abc\x00\x00\x00")
	must(t, f.Truncate(2))
	write(t, f, 4, "x")
	wantContents(t, f, "ab\x00\x00x")
}

func checkCreateTruncates(t *testing.T, fsys FS, dir string) {
	name := path.Join(dir, "f")
	old := create(t, fsys, name, "old contents")
	create(t, fsys, name, "new")
	wantContents(t, old, "new") // same file, truncated
	if got := readFile(t, fsys, name); got != "new" {
		t.Fatalf("read %q", got)
	}
}

func checkRenameOver(t *testing.T, fsys FS, dir string) {
	a, b := path.Join(dir, "a"), path.Join(dir, "b")
	create(t, fsys, a, "A")
	fb := create(t, fsys, b, "B")
	must(t, fsys.Rename(a, b))
	if got := readFile(t, fsys, b); got != "A" {
		t.Fatalf("b holds %q after rename", got)
	}
	_, err := fsys.Stat(a)
	wantNotExist(t, "Stat(old name)", err)
	wantContents(t, fb, "B") // the replaced file lives on while open
	write(t, fb, 1, "!")
	wantContents(t, fb, "B!")
	if got := readFile(t, fsys, b); got != "A" {
		t.Fatalf("write to replaced file reached b: %q", got)
	}
}

func checkRemoveWhileOpen(t *testing.T, fsys FS, dir string) {
	name := path.Join(dir, "f")
	f := create(t, fsys, name, "still here")
	must(t, fsys.Remove(name))
	wantContents(t, f, "still here")
	write(t, f, 0, "STILL")
	wantContents(t, f, "STILL here")
	_, err := fsys.Open(name)
	wantNotExist(t, "Open(removed)", err)
}

func checkList(t *testing.T, fsys FS, dir string) {
	for _, n := range []string{"c", "a", "b"} {
		create(t, fsys, path.Join(dir, n), n)
	}
	must(t, fsys.MkdirAll(path.Join(dir, "sub", "deeper")))
	names, err := fsys.List(dir)
	if want := []string{"a", "b", "c", "sub"}; err != nil || !slices.Equal(names, want) {
		t.Fatalf("List = %q, %v, want %q", names, err, want)
	}
	if names, err := fsys.List(path.Join(dir, "sub", "deeper")); err != nil || len(names) != 0 {
		t.Fatalf("List(empty) = %q, %v", names, err)
	}
	_, err = fsys.List(path.Join(dir, "nope"))
	wantNotExist(t, "List(missing)", err)
}

func checkStat(t *testing.T, fsys FS, dir string) {
	create(t, fsys, path.Join(dir, "f"), "12345")
	fi, err := fsys.Stat(path.Join(dir, "f"))
	if err != nil || fi.Name() != "f" || fi.Size() != 5 || fi.IsDir() || !fi.Mode().IsRegular() {
		t.Fatalf("Stat(file) = %v, %v", fi, err)
	}
	must(t, fsys.MkdirAll(path.Join(dir, "d")))
	fi, err = fsys.Stat(path.Join(dir, "d"))
	if err != nil || fi.Name() != "d" || !fi.IsDir() || !fi.Mode().IsDir() {
		t.Fatalf("Stat(dir) = %v, %v", fi, err)
	}
	_, err = fsys.Stat(path.Join(dir, "missing"))
	wantNotExist(t, "Stat(missing)", err)
}

func checkSyncDir(t *testing.T, fsys FS, dir string) {
	f := create(t, fsys, path.Join(dir, "f"), "x")
	must(t, f.Sync())
	must(t, fsys.SyncDir(dir))
	wantNotExist(t, "SyncDir(missing)", fsys.SyncDir(path.Join(dir, "missing")))
}

func checkMissing(t *testing.T, fsys FS, dir string) {
	missing := path.Join(dir, "missing")
	_, err := fsys.Open(missing)
	wantNotExist(t, "Open", err)
	_, err = fsys.OpenReadWrite(missing)
	wantNotExist(t, "OpenReadWrite", err)
	_, err = fsys.Create(path.Join(missing, "f"))
	wantNotExist(t, "Create in missing dir", err)
	wantNotExist(t, "Remove", fsys.Remove(missing))
	wantNotExist(t, "Rename", fsys.Rename(missing, path.Join(dir, "x")))
	create(t, fsys, path.Join(dir, "f"), "")
	wantNotExist(t, "Rename into missing dir", fsys.Rename(path.Join(dir, "f"), path.Join(missing, "f")))
}

func checkReadOnly(t *testing.T, fsys FS, dir string) {
	name := path.Join(dir, "f")
	create(t, fsys, name, "data")
	f, err := fsys.Open(name)
	must(t, err)
	defer f.Close()
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Fatal("WriteAt on a read-only file succeeded")
	}
	if err := f.Truncate(0); err == nil {
		t.Fatal("Truncate on a read-only file succeeded")
	}
	wantContents(t, f, "data")
}

func checkClosed(t *testing.T, fsys FS, dir string) {
	f, err := fsys.Create(path.Join(dir, "f"))
	must(t, err)
	must(t, f.Close())
	buf := make([]byte, 1)
	if _, err := f.ReadAt(buf, 0); err == nil || err == io.EOF {
		t.Errorf("ReadAt after Close: %v", err)
	}
	if _, err := f.WriteAt(buf, 0); err == nil {
		t.Error("WriteAt after Close succeeded")
	}
	for name, op := range map[string]func() error{"Sync": f.Sync, "Close": f.Close,
		"Truncate": func() error { return f.Truncate(0) },
		"Size":     func() error { _, err := f.Size(); return err }} {
		if op() == nil {
			t.Errorf("%s after Close succeeded", name)
		}
	}
}

func checkRemoveDir(t *testing.T, fsys FS, dir string) {
	sub := path.Join(dir, "sub")
	must(t, fsys.MkdirAll(sub))
	create(t, fsys, path.Join(sub, "f"), "")
	if fsys.Remove(sub) == nil {
		t.Fatal("removed a non-empty directory")
	}
	must(t, fsys.Remove(path.Join(sub, "f")))
	must(t, fsys.Remove(sub))
	_, err := fsys.Stat(sub)
	wantNotExist(t, "Stat(removed dir)", err)
}

// checkSharedInode: handles on one file see each other's writes.
func checkSharedInode(t *testing.T, fsys FS, dir string) {
	name := path.Join(dir, "f")
	w := create(t, fsys, name, "one")
	r, err := fsys.OpenReadWrite(name)
	must(t, err)
	defer r.Close()
	write(t, r, 3, "two")
	wantContents(t, w, "onetwo")
}

func checkConcurrentReadWrite(t *testing.T, fsys FS, dir string) {
	f := create(t, fsys, path.Join(dir, "f"), "")
	const chunk, chunks = 64, 200
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range chunks {
			if _, err := f.WriteAt(bytes.Repeat([]byte{byte(i)}, chunk), int64(i*chunk)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 3 {
		wg.Go(func() { readChunks(t, f, chunk, chunks) })
	}
	wg.Wait()
	if size, err := f.Size(); err != nil || size != chunk*chunks {
		t.Fatalf("Size = %d, %v", size, err)
	}
}

// readChunks polls until every chunk is written, checking that chunk i
// holds byte i.
func readChunks(t *testing.T, f File, chunk, chunks int) {
	buf := make([]byte, chunk)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < chunks; {
		n, _ := f.ReadAt(buf, int64(i*chunk))
		if n < chunk && time.Now().After(deadline) {
			t.Errorf("chunk %d not written after 10s", i)
			return
		}
		if n < chunk {
			continue
		}
		if !bytes.Equal(buf, bytes.Repeat([]byte{byte(i)}, chunk)) {
			t.Errorf("chunk %d = %v", i, buf)
			return
		}
		i++
	}
}
