package vfs

import (
	"maps"
	"math/rand/v2"
	"slices"
)

// CrashableFS is a MemFS that remembers what a power loss would keep.
//
// The model has two independent parts, as on a real filesystem:
//
//   - Contents: a file's contents are durable as of its last File.Sync, and
//     that applies to the inode, whatever names it has (or has lost) since.
//     Create's truncation of an existing file is not durable until Sync.
//   - Names: a directory's entries are durable as of the last SyncDir of
//     that directory. Creating, renaming or removing a name, and MkdirAll,
//     are lost in a crash unless the parent is synced afterwards.
//
// A rename between two directories is durable once both parents are synced.
// If only one is, the crash image shows it half done, exactly as each
// directory last saw it: the file may be under both names (as two links to
// one file) or under neither. A directory found twice this way is kept only
// under its first name, in sorted walk order.
//
// Crash returns a new, independent CrashableFS holding only the durable
// state. The original stays usable, and goroutines still running on it
// cannot affect the copy.
type CrashableFS struct {
	MemFS
}

// NewCrashable returns an empty crash-tracking filesystem. Its root always
// exists; nothing else is durable until synced.
func NewCrashable() *CrashableFS {
	return &CrashableFS{MemFS{root: newDir(), track: true}}
}

// CrashOptions say how Crash treats data written since the last Sync.
type CrashOptions struct {
	// Rand drives TornTail and Garble. Nil means a fixed seed.
	Rand *rand.Rand
	// TornTail keeps, for each file that has only been appended to since
	// its last Sync, a random-length prefix (possibly empty, possibly all)
	// of the unsynced bytes, as a write torn by power loss would. Files
	// overwritten or truncated below their synced length keep exactly their
	// synced contents.
	TornTail bool
	// Garble, with TornTail, corrupts (XORs with a random non-zero byte)
	// between 1 and maxGarble of the last kept unsynced bytes of each torn
	// tail that is not empty. Synced bytes are never garbled.
	Garble bool
}

// maxGarble bounds how many trailing bytes Garble corrupts.
const maxGarble = 4

// Crash returns a new filesystem holding only c's durable state, as found
// after a power loss at this instant. Safe to call while c is in use.
func (c *CrashableFS) Crash(opts CrashOptions) *CrashableFS {
	cl := &cloner{opts: opts, rng: opts.Rand, files: map[*inode]*inode{}, dirs: map[*inode]bool{}}
	if cl.rng == nil {
		cl.rng = rand.New(rand.NewPCG(1, 2))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := NewCrashable()
	out.root = cl.dir(c.root)
	return out
}

// cloner builds a crash image. Its caller holds the source MemFS.mu.
type cloner struct {
	opts  CrashOptions
	rng   *rand.Rand
	files map[*inode]*inode // source file → its image, so links stay links
	dirs  map[*inode]bool   // source directories already cloned
}

// dir clones the durable entries of d, sorted so that a seed reproduces.
func (cl *cloner) dir(d *inode) *inode {
	cl.dirs[d] = true
	out := newDir()
	for _, name := range slices.Sorted(maps.Keys(d.durable)) {
		switch n := d.durable[name]; {
		case !n.dir:
			out.entries[name] = cl.file(n)
		case !cl.dirs[n]:
			out.entries[name] = cl.dir(n)
		}
	}
	out.durable = maps.Clone(out.entries)
	return out
}

func (cl *cloner) file(n *inode) *inode {
	if out, ok := cl.files[n]; ok {
		return out
	}
	img := cl.image(n)
	out := &inode{data: img, synced: slices.Clone(img)}
	cl.files[n] = out
	return out
}

// image returns a copy of what survives of n: its synced contents and, with
// TornTail, a prefix of what was appended since.
func (cl *cloner) image(n *inode) []byte {
	n.mu.RLock()
	defer n.mu.RUnlock()
	img := slices.Clone(n.synced)
	if !cl.opts.TornTail || !n.appendedOnly() {
		return img
	}
	tail := n.data[len(n.synced):]
	img = append(img, tail[:cl.rng.IntN(len(tail)+1)]...)
	if cl.opts.Garble {
		cl.garble(img[len(n.synced):])
	}
	return img
}

// garble corrupts the last few bytes of torn.
func (cl *cloner) garble(torn []byte) {
	if len(torn) == 0 {
		return
	}
	k := 1 + cl.rng.IntN(min(len(torn), maxGarble))
	for i := len(torn) - k; i < len(torn); i++ {
		torn[i] ^= byte(1 + cl.rng.IntN(255))
	}
}
