package subject

import (
	"hash/maphash"
	"sync/atomic"
)

// Doorkeeper sizing: a Bloom filter of doorBits bits (1 KiB), two bits
// per subject, cleared after doorReset subjects; about 5% false
// positives when full.
const (
	doorBits  = 8192
	doorReset = DefaultCacheSize
)

// doorkeeper admits a subject to the result cache only on its second miss
// within about doorReset misses, as TinyLFU's doorkeeper does. Storing a
// result costs about twice a trie walk, so subjects that never repeat,
// such as one with a device or message id in it, must not pay it nor
// evict hot subjects. It is lock-free: readers share it under the read
// lock.
type doorkeeper struct {
	seed  maphash.Seed
	words [doorBits / 64]atomic.Uint64
	added atomic.Uint32 // subjects since the last clear
}

func newDoorkeeper() *doorkeeper {
	return &doorkeeper{seed: maphash.MakeSeed()}
}

// admit reports whether subject missed recently, and remembers it if not.
// A false positive admits a subject early, and a race with a clear
// forgets one: either costs speed only.
func (d *doorkeeper) admit(subject string) bool {
	h := maphash.String(d.seed, subject)
	b1, b2 := uint32(h)%doorBits, uint32(h>>32)%doorBits
	if d.has(b1) && d.has(b2) {
		return true
	}
	d.set(b1)
	d.set(b2)
	if d.added.Add(1) >= doorReset {
		d.clear()
	}
	return false
}

func (d *doorkeeper) has(bit uint32) bool {
	return d.words[bit/64].Load()&(1<<(bit%64)) != 0
}

func (d *doorkeeper) set(bit uint32) {
	d.words[bit/64].Or(1 << (bit % 64))
}

func (d *doorkeeper) clear() {
	d.added.Store(0)
	for i := range d.words {
		d.words[i].Store(0)
	}
}
