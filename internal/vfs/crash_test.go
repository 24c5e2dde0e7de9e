package vfs

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path"
	"sync"
	"testing"
)

// durableFile creates name with content and makes both durable.
func durableFile(t *testing.T, c *CrashableFS, name, content string) File {
	t.Helper()
	f := create(t, c, name, content)
	must(t, f.Sync())
	must(t, c.SyncDir(path.Dir(name)))
	return f
}

// wantFile checks name's contents in fsys, or that it is missing if want
// is nil.
func wantFile(t *testing.T, fsys FS, name string, want *string) {
	t.Helper()
	if want == nil {
		_, err := fsys.Stat(name)
		wantNotExist(t, "Stat("+name+")", err)
		return
	}
	if got := readFile(t, fsys, name); got != *want {
		t.Fatalf("%s = %q, want %q", name, got, *want)
	}
}

func ptr(s string) *string { return &s }

func TestVFSCrashUnsyncedDataLost(t *testing.T) {
	c := NewCrashable()
	f := durableFile(t, c, "f", "")
	write(t, f, 0, "unsynced")
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr(""))
}

func TestVFSCrashSyncedDataKept(t *testing.T) {
	c := NewCrashable()
	f := durableFile(t, c, "f", "synced")
	write(t, f, 6, " and not")
	write(t, f, 0, "S") // an overwrite after Sync is lost too
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr("synced"))
	must(t, f.Sync())
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr("Synced and not"))
}

func TestVFSCrashCreateNeedsSyncDir(t *testing.T) {
	c := NewCrashable()
	f := create(t, c, "f", "data")
	must(t, f.Sync())
	wantFile(t, c.Crash(CrashOptions{}), "f", nil)
	must(t, c.SyncDir("."))
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr("data"))
}

func TestVFSCrashMkdirNeedsSyncDir(t *testing.T) {
	c := NewCrashable()
	must(t, c.MkdirAll("a/b"))
	durableFile(t, c, "a/b/f", "data")
	wantFile(t, c.Crash(CrashOptions{}), "a/b/f", nil)
	must(t, c.SyncDir("a"))
	wantFile(t, c.Crash(CrashOptions{}), "a/b/f", nil)
	must(t, c.SyncDir("."))
	wantFile(t, c.Crash(CrashOptions{}), "a/b/f", ptr("data"))
}

func TestVFSCrashRenameNeedsSyncDir(t *testing.T) {
	c := NewCrashable()
	durableFile(t, c, "tmp", "new")
	durableFile(t, c, "cur", "old")
	must(t, c.Rename("tmp", "cur"))
	img := c.Crash(CrashOptions{})
	wantFile(t, img, "tmp", ptr("new"))
	wantFile(t, img, "cur", ptr("old"))
	must(t, c.SyncDir("."))
	img = c.Crash(CrashOptions{})
	wantFile(t, img, "tmp", nil)
	wantFile(t, img, "cur", ptr("new"))
}

func TestVFSCrashRenameAcrossDirs(t *testing.T) {
	c := NewCrashable()
	must(t, c.MkdirAll("a"))
	must(t, c.MkdirAll("b"))
	must(t, c.SyncDir("."))
	durableFile(t, c, "a/f", "data")
	must(t, c.Rename("a/f", "b/f"))
	must(t, c.SyncDir("b")) // half done: both names, one file
	img := c.Crash(CrashOptions{})
	wantFile(t, img, "a/f", ptr("data"))
	wantFile(t, img, "b/f", ptr("data"))
	must(t, c.SyncDir("a"))
	img = c.Crash(CrashOptions{})
	wantFile(t, img, "a/f", nil)
	wantFile(t, img, "b/f", ptr("data"))
}

func TestVFSCrashRemoveNeedsSyncDir(t *testing.T) {
	c := NewCrashable()
	f := durableFile(t, c, "f", "data")
	must(t, c.Remove("f"))
	write(t, f, 4, "+more")
	must(t, f.Sync()) // the unlinked inode's contents still count
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr("data+more"))
	must(t, c.SyncDir("."))
	wantFile(t, c.Crash(CrashOptions{}), "f", nil)
}

func TestVFSCrashCreateTruncateNeedsSync(t *testing.T) {
	c := NewCrashable()
	durableFile(t, c, "f", "old data")
	f := create(t, c, "f", "new")
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr("old data"))
	must(t, f.Sync())
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr("new"))
}

func TestVFSCrashTruncateThenSync(t *testing.T) {
	c := NewCrashable()
	f := durableFile(t, c, "f", "0123456789")
	must(t, f.Truncate(2))
	write(t, f, 4, "x")
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr("0123456789"))
	must(t, f.Sync())
	wantFile(t, c.Crash(CrashOptions{}), "f", ptr("01\x00\x00x"))
}

func TestVFSCrashTornTail(t *testing.T) {
	const synced, tail = "synced|", "0123456789abcdefghij"
	lengths := map[int]bool{}
	for seed := range uint64(200) {
		c := NewCrashable()
		f := durableFile(t, c, "f", synced)
		write(t, f, int64(len(synced)), tail)
		img := c.Crash(CrashOptions{Rand: rand.New(rand.NewPCG(seed, 0)), TornTail: true})
		got := readFile(t, img, "f")
		if want := (synced + tail)[:len(got)]; len(got) < len(synced) || got != want {
			t.Fatalf("seed %d: torn image %q is not a prefix of %q no shorter than %q", seed, got, synced+tail, synced)
		}
		lengths[len(got)] = true
	}
	if !lengths[len(synced)] || !lengths[len(synced+tail)] || len(lengths) < 10 {
		t.Errorf("torn lengths seen: %v", lengths)
	}
}

func TestVFSCrashTornTailGarble(t *testing.T) {
	const synced, tail = "synced|", "0123456789abcdefghij"
	for seed := range uint64(200) {
		c := NewCrashable()
		f := durableFile(t, c, "f", synced)
		write(t, f, int64(len(synced)), tail)
		opts := CrashOptions{Rand: rand.New(rand.NewPCG(seed, 1)), TornTail: true, Garble: true}
		got := readFile(t, c.Crash(opts), "f")
		kept := len(got) - len(synced)
		if kept < 0 || got[:len(synced)] != synced {
			t.Fatalf("seed %d: synced bytes damaged: %q", seed, got)
		}
		intact := max(0, kept-maxGarble)
		if got[len(synced):][:intact] != tail[:intact] || kept > 0 && got[len(got)-1] == tail[kept-1] {
			t.Fatalf("seed %d: garbled tail %q, written %q", seed, got, tail)
		}
	}
}

// Only pure appends tear: an overwrite since Sync keeps the synced image.
func TestVFSCrashTornTailNeedsAppendOnly(t *testing.T) {
	c := NewCrashable()
	f := durableFile(t, c, "f", "synced")
	write(t, f, 6, "appended")
	write(t, f, 0, "S")
	for seed := range uint64(20) {
		img := c.Crash(CrashOptions{Rand: rand.New(rand.NewPCG(seed, 2)), TornTail: true})
		wantFile(t, img, "f", ptr("synced"))
	}
}

func TestVFSCrashImageIsDurable(t *testing.T) {
	c := NewCrashable()
	must(t, c.MkdirAll("d"))
	must(t, c.SyncDir("."))
	durableFile(t, c, "d/f", "data")
	img := c.Crash(CrashOptions{}).Crash(CrashOptions{})
	wantFile(t, img, "d/f", ptr("data"))
}

// The old filesystem keeps running during and after Crash; nothing it does
// reaches the image, and nothing done to the image reaches it.
func TestVFSCrashOldFSIndependent(t *testing.T) {
	c := NewCrashable()
	f := durableFile(t, c, "f", "durable")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { churn(t, c, f, stop) })
	var imgs []*CrashableFS
	for range 20 {
		imgs = append(imgs, c.Crash(CrashOptions{TornTail: true}))
	}
	close(stop)
	wg.Wait()
	write(t, f, 0, "CHANGED")
	must(t, f.Sync())
	for _, img := range imgs {
		got := readFile(t, img, "f")
		if len(got) < len("durable") || got[:len("durable")] != "durable" {
			t.Fatalf("image changed: %q", got)
		}
	}
	durableFile(t, imgs[0], "f", "image write")
	if got := readFile(t, c, "f"); got[:7] != "CHANGED" {
		t.Fatalf("image write reached the old fs: %q", got)
	}
}

// churn appends, syncs, creates, renames and removes on c until stop.
func churn(t *testing.T, c *CrashableFS, f File, stop chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		size, _ := f.Size()
		f.WriteAt([]byte("+"), size)
		f.Sync()
		name := fmt.Sprintf("g%d", i%3)
		if g, err := c.Create(name); err == nil {
			g.WriteAt([]byte("g"), 0)
			g.Sync()
			g.Close()
		}
		c.Rename(name, "h")
		c.SyncDir(".")
		c.Remove("h")
	}
}

// TestVFSCrashManySyncs is the crash tests' load: thousands of syncs of an
// append-only file growing to a few MiB. Copying the whole file on each
// Sync would copy gigabytes here.
func TestVFSCrashManySyncs(t *testing.T) {
	c := NewCrashable()
	f := durableFile(t, c, "log", "")
	rec := bytes.Repeat([]byte("r"), 1024)
	for i := range 4096 {
		if _, err := f.WriteAt(rec, int64(i*len(rec))); err != nil {
			t.Fatal(err)
		}
		must(t, f.Sync())
	}
	img := c.Crash(CrashOptions{})
	if got := readFile(t, img, "log"); len(got) != 4096*1024 {
		t.Fatalf("image holds %d bytes", len(got))
	}
}

func BenchmarkVFSCrashableAppendSync(b *testing.B) {
	c := NewCrashable()
	f, _ := c.Create("log")
	rec := bytes.Repeat([]byte("r"), 1024)
	b.SetBytes(int64(len(rec)))
	for i := 0; b.Loop(); i++ {
		f.WriteAt(rec, int64(i%4096*len(rec)))
		f.Sync()
	}
}
