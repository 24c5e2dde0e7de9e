package meta

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"pgregory.net/rapid"
)

// modelTest checks a store against a map, through every kind of write,
// reads, and reopens, with every commit interval.
type modelTest struct {
	fs    vfs.FS
	s     *Store
	model map[string]string
}

var modelParts = []string{"a", "ab", "a\x00"}

func (m *modelTest) key(t *rapid.T) []byte {
	return Key("m", rapid.SampledFrom(modelParts).Draw(t, "a"), rapid.IntRange(0, 2).Draw(t, "b"))
}

func (m *modelTest) prefix(t *rapid.T) []byte {
	if rapid.Bool().Draw(t, "whole") {
		return Prefix("m")
	}
	return Prefix("m", rapid.SampledFrom(modelParts).Draw(t, "a"))
}

func (m *modelTest) value(t *rapid.T) string {
	return rapid.StringMatching(`[a-z]{0,3}`).Draw(t, "v")
}

func (m *modelTest) open(t *rapid.T) {
	iv := rapid.SampledFrom([]time.Duration{-1, time.Millisecond, never}).Draw(t, "interval")
	s, err := Open(testDir, Options{FS: m.fs, CommitInterval: iv})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	m.s = s
}

// op draws one op for Apply and applies it to the model.
func (m *modelTest) op(t *rapid.T) Op {
	switch rapid.IntRange(0, 2).Draw(t, "kind") {
	case 0:
		k, v := m.key(t), m.value(t)
		m.model[string(k)] = v
		return SetOp(k, []byte(v))
	case 1:
		k := m.key(t)
		delete(m.model, string(k))
		return DeleteOp(k)
	}
	p := m.prefix(t)
	maps.DeleteFunc(m.model, func(k, _ string) bool { return strings.HasPrefix(k, string(p)) })
	return DeletePrefixOp(p)
}

func (m *modelTest) actions() map[string]func(*rapid.T) {
	check := func(t *rapid.T, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	return map[string]func(*rapid.T){
		"apply": func(t *rapid.T) {
			ops := make([]Op, rapid.IntRange(1, 4).Draw(t, "n"))
			for i := range ops {
				ops[i] = m.op(t)
			}
			check(t, m.s.Apply(ops...))
		},
		"setDeferred": func(t *rapid.T) {
			k, v := m.key(t), m.value(t)
			m.model[string(k)] = v
			check(t, m.s.SetDeferred(k, []byte(v)))
		},
		"deleteDeferred": func(t *rapid.T) {
			k := m.key(t)
			delete(m.model, string(k))
			check(t, m.s.DeleteDeferred(k))
		},
		"flush": func(t *rapid.T) { check(t, m.s.Flush()) },
		"reopen": func(t *rapid.T) {
			check(t, m.s.Close())
			m.open(t)
		},
		"get": func(t *rapid.T) {
			k := m.key(t)
			wantGet(t, m.s, k, m.model[string(k)])
		},
		"scan": func(t *rapid.T) {
			p := m.prefix(t)
			want := maps.Clone(m.model)
			maps.DeleteFunc(want, func(k, _ string) bool { return !strings.HasPrefix(k, string(p)) })
			if got := scanAll(t, m.s, p); !maps.Equal(got, want) {
				t.Fatalf("scan %x = %q, want %q", p, got, want)
			}
		},
	}
}

func TestMetaModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := &modelTest{fs: vfs.NewMem(), model: map[string]string{}}
		m.open(t)
		defer func() {
			if err := m.s.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
		}()
		t.Repeat(m.actions())
	})
}
