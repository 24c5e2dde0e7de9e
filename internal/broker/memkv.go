package broker

import (
	"bytes"
	"errors"
	"sort"
	"sync"

	"github.com/courier-mq/courier/internal/meta"
)

// ErrKVNotFound is MemKV's not-found error.
var ErrKVNotFound = errors.New("kv: not found")

// MemKV is an in-memory KV for tests and for brokers that keep nothing
// across restarts. Deferred writes apply at once.
type MemKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemKV returns an empty MemKV.
func NewMemKV() *MemKV { return &MemKV{m: map[string][]byte{}} }

func (k *MemKV) Get(key []byte) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[string(key)]
	if !ok {
		return nil, ErrKVNotFound
	}
	return bytes.Clone(v), nil
}

func (k *MemKV) Set(key, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[string(key)] = bytes.Clone(val)
	return nil
}

func (k *MemKV) Delete(key []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, string(key))
	return nil
}

func (k *MemKV) DeletePrefix(prefix []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key := range k.m {
		if bytes.HasPrefix([]byte(key), prefix) {
			delete(k.m, key)
		}
	}
	return nil
}

func (k *MemKV) Scan(prefix []byte, fn func(key, val []byte) error) error {
	k.mu.Lock()
	var keys []string
	for key := range k.m {
		if bytes.HasPrefix([]byte(key), prefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, key := range keys {
		vals[i] = k.m[key]
	}
	k.mu.Unlock()
	for i, key := range keys {
		if err := fn([]byte(key), vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// Apply applies ops atomically.
func (k *MemKV) Apply(ops ...meta.Op) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, op := range ops {
		switch op.Kind {
		case meta.OpSet:
			k.m[string(op.Key)] = bytes.Clone(op.Val)
		case meta.OpDelete:
			delete(k.m, string(op.Key))
		case meta.OpDeletePrefix:
			for key := range k.m {
				if bytes.HasPrefix([]byte(key), op.Key) {
					delete(k.m, key)
				}
			}
		}
	}
	return nil
}

func (k *MemKV) SetDeferred(key, val []byte) error { return k.Set(key, val) }

// SetDeferredNew is Set.
func (k *MemKV) SetDeferredNew(key, val []byte) error { return k.Set(key, val) }
func (k *MemKV) DeleteDeferred(key []byte) error      { return k.Delete(key) }
func (k *MemKV) Flush() error                         { return nil }
func (k *MemKV) Close() error                         { return nil }
