package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/log"
	"github.com/courier-mq/courier/internal/meta"
	"github.com/courier-mq/courier/internal/subject"
	"github.com/courier-mq/courier/internal/vfs"
)

// KV is the durable metadata store the broker keeps configurations and
// group state in (internal/meta implements it). Set, Delete, DeletePrefix
// and Flush are durable on return; deferred writes become durable within
// the store's commit interval, which bounds how many acks a crash can
// forget (those messages are then delivered again). Writes copy the keys
// and values they are given: callers may reuse them.
type KV interface {
	Get(key []byte) ([]byte, error) // an error satisfying IsNotFound when absent
	Set(key, val []byte) error
	Delete(key []byte) error
	DeletePrefix(prefix []byte) error
	Scan(prefix []byte, fn func(key, val []byte) error) error
	Apply(ops ...meta.Op) error // one atomic, durable batch
	SetDeferred(key, val []byte) error
	// SetDeferredNew is SetDeferred of a key known not to be stored: a
	// DeleteDeferred before it is committed cancels both.
	SetDeferredNew(key, val []byte) error
	DeleteDeferred(key []byte) error
	Flush() error
	Close() error
}

// Options configure a Broker.
type Options struct {
	Dir    string // data folder: streams/<name>/<partition> hold the logs
	FS     vfs.FS // for the logs; default the disk
	Meta   KV     // required
	Log    log.Options
	Logger *slog.Logger
	// AckHold is how long an ack above its partition's floor is held
	// before it is written, in case the floor passes it meanwhile (then
	// it is never written): such an ack is written between AckHold and
	// twice it after it was made. 0 means DefaultAckHold; negative writes
	// each at once.
	AckHold time.Duration
}

// DefaultAckHold is the default Options.AckHold.
const DefaultAckHold = 50 * time.Millisecond

// Broker is the in-process core: streams, subscriptions and groups. It is
// safe for concurrent use.
type Broker struct {
	opts Options
	kv   KV
	lg   *slog.Logger

	mu      sync.RWMutex // guards the maps and indexes below; never held across I/O on logs
	closed  bool
	streams map[string]*stream
	capture subject.Index[*stream]       // stream subject patterns
	core    subject.Index[*Subscription] // live subscribers
	subs    map[*Subscription]struct{}
	groups  map[string]*group // by stream + "/" + name
	fsync   histogram         // every fsync of the partition logs (stats.go)
	inboxes inboxes           // requests waiting for a reply (request.go)

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open loads every stream and group from the metadata store, opening and
// recovering their logs.
func Open(o Options) (*Broker, error) {
	if o.Meta == nil {
		return nil, invalid("Options.Meta is required")
	}
	if o.FS == nil {
		o.FS = vfs.Disk
	}
	o.Log.FS = o.FS
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Broker{opts: o, kv: o.Meta, lg: o.Logger, streams: map[string]*stream{},
		subs: map[*Subscription]struct{}{}, groups: map[string]*group{}}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.opts.Log.OnSync = b.syncHook(o.Log.OnSync)
	if err := b.loadStreams(); err != nil {
		b.Close()
		return nil, err
	}
	if err := b.loadGroups(); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// go starts a goroutine tied to the broker's lifetime.
func (b *Broker) goTracked(fn func()) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn()
	}()
}

// Close stops every subscription and group, then closes the logs. It does
// not close the metadata store (its owner does), but flushes it.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.closed = true
	subs := make([]*Subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	groups := b.groupList()
	b.mu.Unlock()
	b.cancel()
	for _, s := range subs {
		s.close(ErrClosed)
	}
	for _, g := range groups {
		g.stop(ErrClosed)
	}
	b.wg.Wait()
	var first error
	if err := b.kv.Flush(); err != nil {
		first = err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.streams {
		if err := s.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (b *Broker) groupList() []*group {
	out := make([]*group, 0, len(b.groups))
	for _, g := range b.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id() < out[j].id() })
	return out
}

func (b *Broker) streamDir(name string, part int) string {
	return filepath.Join(b.opts.Dir, "streams", name, fmt.Sprint(part))
}

// stream returns a stream by name.
func (b *Broker) stream(name string) (*stream, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, ErrClosed
	}
	s := b.streams[name]
	if s == nil {
		return nil, fmt.Errorf("%w: %s", ErrStreamNotFound, name)
	}
	return s, nil
}

// capturing returns the stream that captures subj, if any. An inbox is
// matched past the index's cache: it comes a few times, never again, and
// would push out subjects that do.
func (b *Broker) capturing(subj string) *stream {
	var buf [2]*stream
	var m []*stream
	if strings.HasPrefix(subj, InboxPrefix) {
		m = b.capture.MatchUncached(subj, buf[:0])
	} else {
		m = b.capture.Match(subj, buf[:0])
	}
	if len(m) == 0 {
		return nil
	}
	return m[0]
}

func putJSON(kv KV, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return kv.Set(key, b)
}
