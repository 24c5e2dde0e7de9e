package vfs

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// model is the naive version of CrashableFS's sync tracking: it copies the
// whole file on every Sync and remembers whether anything but appends
// happened since.
type model struct {
	data, synced []byte
	appendOnly   bool
}

func (m *model) writeAt(p []byte, off int) {
	if len(p) == 0 {
		return // like pwrite: an empty write does not extend the file
	}
	if end := off + len(p); end > len(m.data) {
		m.data = append(m.data, make([]byte, end-len(m.data))...)
	}
	copy(m.data[off:], p)
	m.appendOnly = m.appendOnly && off >= len(m.synced)
}

func (m *model) truncate(size int) {
	if size < len(m.data) {
		m.data = m.data[:size:size]
	} else {
		m.data = append(m.data, make([]byte, size-len(m.data))...)
	}
	m.appendOnly = m.appendOnly && size >= len(m.synced)
}

func (m *model) sync() { m.synced, m.appendOnly = bytes.Clone(m.data), true }

// TestVFSCrashMatchesModel runs random writes, truncations and syncs on
// one file and checks every crash image against the model.
func TestVFSCrashMatchesModel(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 3))
		c := NewCrashable()
		f := durableFile(t, c, "f", "")
		m := &model{appendOnly: true}
		for step := range 300 {
			applyRandom(t, rng, f, m)
			img := c.Crash(CrashOptions{Rand: rng, TornTail: true})
			checkImage(t, []byte(readFile(t, img, "f")), m, seed, step)
		}
	}
}

func applyRandom(t *testing.T, rng *rand.Rand, f File, m *model) {
	switch n := len(m.data); rng.IntN(4) {
	case 0:
		must(t, f.Sync())
		m.sync()
	case 1:
		size := rng.IntN(n + 8)
		must(t, f.Truncate(int64(size)))
		m.truncate(size)
	default:
		p := make([]byte, rng.IntN(16))
		for i := range p {
			p[i] = byte(1 + rng.IntN(255))
		}
		off := rng.IntN(n + 8)
		write(t, f, int64(off), string(p))
		m.writeAt(p, off)
	}
}

func checkImage(t *testing.T, got []byte, m *model, seed uint64, step int) {
	t.Helper()
	ok := bytes.Equal(got, m.synced)
	if m.appendOnly && len(m.data) > len(m.synced) {
		ok = len(got) >= len(m.synced) && len(got) <= len(m.data) && bytes.Equal(got, m.data[:len(got)])
	}
	if !ok {
		t.Fatalf("seed %d step %d: image %x; model synced %x, data %x, appendOnly %v",
			seed, step, got, m.synced, m.data, m.appendOnly)
	}
}
