package meta

import (
	"errors"
	"maps"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestMetaSetGetDelete(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{})
	defer mustClose(t, s)
	k := Key(NSStream, "orders")
	wantGet(t, s, k, "")
	mustSet(t, s, k, "v1")
	wantGet(t, s, k, "v1")
	mustSet(t, s, k, "v2")
	wantGet(t, s, k, "v2")
	if err := s.Delete(k); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if err := s.Set(k, nil); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(k); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("empty value: %q %v", v, err)
	}
}

func TestMetaDeletePrefix(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{})
	defer mustClose(t, s)
	keep := [][]byte{Key(NSGroup, "ab", "g"), Key(NSGroup, "a\x00", "g"), Key(NSStream, "a")}
	gone := [][]byte{Key(NSGroup, "a"), Key(NSGroup, "a", "g1"), Key(NSGroup, "a", "g2", 7)}
	for _, k := range append(keep, gone...) {
		mustSet(t, s, k, "x")
	}
	if err := s.DeletePrefix(Prefix(NSGroup, "a")); err != nil {
		t.Fatal(err)
	}
	for _, k := range gone {
		wantGet(t, s, k, "")
	}
	for _, k := range keep {
		wantGet(t, s, k, "x")
	}
	for _, p := range [][]byte{nil, {0xff, 0xff}} {
		if err := s.DeletePrefix(p); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("DeletePrefix(%x) = %v, want ErrInvalidKey", p, err)
		}
	}
}

func TestMetaScan(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{})
	defer mustClose(t, s)
	for i := int64(-2); i < 3; i++ {
		mustSet(t, s, Key(NSTimer, i, "x"), "t")
	}
	mustSet(t, s, Key(NSStream, "s"), "s")
	var got []int64
	err := s.Scan(Prefix(NSTimer), func(k, v []byte) error {
		_, parts, err := DecodeKey(k)
		if err != nil {
			return err
		}
		got = append(got, parts[0].(int64))
		if len(got) == 4 {
			return ErrStopScan
		}
		return nil
	})
	if err != nil || len(got) != 4 || got[0] != -2 || got[3] != 1 {
		t.Fatalf("scan = %v, %v; want -2..1", got, err)
	}
	boom := errors.New("boom")
	if err := s.Scan(nil, func(k, v []byte) error { return boom }); err != boom {
		t.Fatalf("scan error = %v, want %v", err, boom)
	}
	if n := len(scanAll(t, s, nil)); n != 7 { // five timers, one stream, the format
		t.Fatalf("scan of everything saw %d keys, want 7", n)
	}
}

func TestMetaApply(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{})
	defer mustClose(t, s)
	mustSet(t, s, Key("c", "s", 1), "old")
	mustSet(t, s, Key("c", "s", 2), "old")
	err := s.Apply(
		SetOp(Key("c", "t"), []byte("first")),
		DeletePrefixOp(Prefix("c", "s")),
		SetOp(Key("c", "s", 2), []byte("new")),
		SetOp(Key("c", "t"), []byte("second")),
		DeleteOp(Key("c", "u")),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		string(Key("c", "s", 2)): "new",
		string(Key("c", "t")):    "second",
	}
	if got := scanAll(t, s, Prefix("c")); !maps.Equal(got, want) {
		t.Fatalf("after apply: %q, want %q", got, want)
	}
	if err := s.Apply(Op{Kind: 9, Key: []byte("k")}); err == nil {
		t.Fatal("apply of an unknown op kind succeeded")
	}
}

func TestMetaJSON(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{})
	defer mustClose(t, s)
	type config struct {
		Name       string
		Partitions int
	}
	k := Key(NSStream, "orders")
	if err := s.PutJSON(k, config{"orders", 3}); err != nil {
		t.Fatal(err)
	}
	var c config
	if err := s.GetJSON(k, &c); err != nil || c != (config{"orders", 3}) {
		t.Fatalf("GetJSON = %+v, %v", c, err)
	}
	if err := s.GetJSON(Key(NSStream, "none"), &c); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetJSON of a missing key: %v", err)
	}
	if err := s.PutJSON(k, func() {}); err == nil {
		t.Fatal("PutJSON of a func succeeded")
	}
}

func TestMetaInt(t *testing.T) {
	for _, v := range []int64{0, -1, 63, -64, 64, 1 << 40, -1 << 63} {
		if got, err := DecodeInt(EncodeInt(v)); err != nil || got != v {
			t.Errorf("DecodeInt(EncodeInt(%d)) = %d, %v", v, got, err)
		}
	}
	for _, b := range [][]byte{nil, {0x80}, {0x02, 0x00}} {
		if _, err := DecodeInt(b); err == nil {
			t.Errorf("DecodeInt(%x) succeeded", b)
		}
	}
}

func TestMetaClosed(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Options{})
	mustClose(t, s)
	k := Key("k")
	for name, err := range map[string]error{
		"close":        s.Close(),
		"set":          s.Set(k, nil),
		"set deferred": s.SetDeferred(k, nil),
		"flush":        s.Flush(),
		"scan":         s.Scan(nil, func(k, v []byte) error { return nil }),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
	if _, err := s.Get(k); !errors.Is(err, ErrClosed) {
		t.Errorf("get after close: %v, want ErrClosed", err)
	}
}

func TestMetaReopenDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, Key("k", 1), "sync")
	mustDefer(t, s, Key("k", 2), "deferred")
	mustClose(t, s)
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, s)
	wantGet(t, s, Key("k", 1), "sync")
	wantGet(t, s, Key("k", 2), "deferred")
}

func TestMetaFormat(t *testing.T) {
	fs := vfs.NewMem()
	s := mustOpen(t, fs, Options{})
	mustSet(t, s, Key(NSSys, "format"), string(EncodeInt(99)))
	mustClose(t, s)
	if s, err := Open(testDir, Options{FS: fs}); err == nil {
		s.Close()
		t.Fatal("open of a store of another format succeeded")
	}
}
