package vfs

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
)

// Op names an operation of FS or File, for an Injector.
type Op int

// The operations FaultyFS asks an Injector about.
const (
	OpCreate Op = iota
	OpOpen
	OpOpenReadWrite
	OpRemove
	OpRename
	OpMkdirAll
	OpList
	OpStat
	OpSyncDir
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpSize
	OpClose
	numOps
)

var opNames = [numOps]string{
	"create", "open", "openreadwrite", "remove", "rename", "mkdirall", "list",
	"stat", "syncdir", "read", "write", "sync", "truncate", "size", "close",
}

func (o Op) String() string {
	if o < 0 || o >= numOps {
		return fmt.Sprintf("Op(%d)", int(o))
	}
	return opNames[o]
}

// opMask is a set of ops, one bit each; no ops at all means every op.
func opMask(ops []Op) uint64 {
	if len(ops) == 0 {
		return 1<<numOps - 1
	}
	var m uint64
	for _, op := range ops {
		m |= op.bit()
	}
	return m
}

func (o Op) bit() uint64 {
	if o < 0 || o >= numOps {
		return 0
	}
	return 1 << o
}

// Injector decides, before each operation of a FaultyFS, whether it fails.
// A non-nil error fails it. Inject may be called from many goroutines at
// once.
type Injector interface {
	Inject(op Op, path string) error
}

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(op Op, path string) error

func (f InjectorFunc) Inject(op Op, path string) error { return f(op, path) }

// OnNth fails the nth occurrence of op (counting from 1), and only that one.
func OnNth(op Op, n int) Injector { return &counter{op: op, n: int64(n)} }

// After fails every occurrence of op from the nth (counting from 1) on.
func After(op Op, n int) Injector { return &counter{op: op, n: int64(n), after: true} }

type counter struct {
	op    Op
	n     int64
	after bool
	seen  atomic.Int64
}

func (c *counter) Inject(op Op, _ string) error {
	if op != c.op {
		return nil
	}
	if k := c.seen.Add(1); k == c.n || c.after && k > c.n {
		return ErrInjected
	}
	return nil
}

// Random fails each of ops (every op if none are given) with probability p.
// rng is used under a lock, so it must not be shared with other code.
func Random(rng *rand.Rand, p float64, ops ...Op) Injector {
	return &random{rng: rng, p: p, ops: opMask(ops)}
}

type random struct {
	mu  sync.Mutex // guards rng
	rng *rand.Rand
	p   float64
	ops uint64
}

func (r *random) Inject(op Op, _ string) error {
	if r.ops&op.bit() == 0 {
		return nil
	}
	r.mu.Lock()
	fail := r.rng.Float64() < r.p
	r.mu.Unlock()
	if fail {
		return ErrInjected
	}
	return nil
}

// PathContains consults inner only for paths containing substr, so inner
// counts only those operations.
func PathContains(substr string, inner Injector) Injector {
	return InjectorFunc(func(op Op, path string) error {
		if !strings.Contains(path, substr) {
			return nil
		}
		return inner.Inject(op, path)
	})
}

// Short turns every fault inner injects on OpWrite into a ShortWrite of n
// bytes: the write stores at most n bytes, then fails.
func Short(n int, inner Injector) Injector {
	return InjectorFunc(func(op Op, path string) error {
		err := inner.Inject(op, path)
		if err == nil || op != OpWrite {
			return err
		}
		if err == ErrInjected {
			err = nil
		}
		return ShortWrite{N: n, Err: err}
	})
}

// Toggle fails the ops currently enabled. The zero Toggle fails nothing.
// Enable and Disable may be called at any time from any goroutine.
type Toggle struct {
	on atomic.Uint64
}

// Enable starts failing ops (every op if none are given).
func (t *Toggle) Enable(ops ...Op) { t.on.Or(opMask(ops)) }

// Disable stops failing ops (every op if none are given).
func (t *Toggle) Disable(ops ...Op) { t.on.And(^opMask(ops)) }

func (t *Toggle) Inject(op Op, _ string) error {
	if t.on.Load()&op.bit() != 0 {
		return ErrInjected
	}
	return nil
}
