package meta

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// OpKind says what an Op does.
type OpKind uint8

const (
	OpSet          OpKind = iota // set Key to Val
	OpDelete                     // delete Key
	OpDeletePrefix               // delete every key that starts with Key
)

// Op is one write of a batch given to Apply. The constructors SetOp,
// DeleteOp and DeletePrefixOp build them.
type Op struct {
	Kind OpKind
	Key  []byte // the key; for OpDeletePrefix, the prefix
	Val  []byte // for OpSet
}

// SetOp returns an Op that sets key to val.
func SetOp(key, val []byte) Op { return Op{Kind: OpSet, Key: key, Val: val} }

// DeleteOp returns an Op that deletes key.
func DeleteOp(key []byte) Op { return Op{Kind: OpDelete, Key: key} }

// DeletePrefixOp returns an Op that deletes every key starting with prefix.
func DeletePrefixOp(prefix []byte) Op { return Op{Kind: OpDeletePrefix, Key: prefix} }

// Set sets key to val. It returns once the write is durable.
func (s *Store) Set(key, val []byte) error { return s.Apply(SetOp(key, val)) }

// Delete deletes key (which need not exist). It returns once the delete is
// durable.
func (s *Store) Delete(key []byte) error { return s.Apply(DeleteOp(key)) }

// DeletePrefix deletes every key that starts with prefix, with one range
// delete. It returns once the delete is durable. A prefix that has no
// upper bound (empty, or all 0xFF bytes) is refused with ErrInvalidKey;
// prefixes built by Prefix always have one.
func (s *Store) DeletePrefix(prefix []byte) error { return s.Apply(DeletePrefixOp(prefix)) }

// Apply commits ops as one atomic batch, applied in order (a later op wins
// over an earlier one on the same key). It returns once the batch is
// durable. Like every synchronous write, the batch first commits all
// deferred writes made before the call. Apply with no ops is Flush.
func (s *Store) Apply(ops ...Op) error {
	if err := checkOps(ops); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.active.Done()
	return s.write(ops)
}

func checkOps(ops []Op) error {
	for _, op := range ops {
		switch op.Kind {
		case OpSet, OpDelete:
		case OpDeletePrefix:
			if prefixEnd(op.Key) == nil {
				return fmt.Errorf("%w: prefix %x has no upper bound", ErrInvalidKey, op.Key)
			}
		default:
			return fmt.Errorf("meta: unknown op kind %d", op.Kind)
		}
	}
	return nil
}

func addOp(b *pebble.Batch, op Op) error {
	switch op.Kind {
	case OpSet:
		return b.Set(op.Key, op.Val, nil)
	case OpDelete:
		return b.Delete(op.Key, nil)
	}
	return b.DeleteRange(op.Key, prefixEnd(op.Key), nil)
}
