package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/meta"
)

// group is a durable consumer group over a stream. One mutex guards all
// of its state; every method that ends in Locked expects it held. These
// goroutines work on it: one reader per partition (reads the log into
// entries, bounded by MaxPending), one timer loop (ack deadlines, delays,
// backoff, TTLs), one dead-letter publisher (in order), one pump per
// member, and the callers of Delivery methods. None of them holds mu
// across log or metadata I/O.
type group struct {
	b   *Broker
	cfg GroupConfig
	st  *stream

	mu      sync.Mutex
	parts   []*gpart
	members []*Member // in join order; for exclusive, the first is active
	ready   deque     // entries that may be delivered now
	front   []*entry  // while fire runs: entries bound for the ready front
	letters []letter  // dead letters waiting to be published, in order
	dlqWake chan struct{}
	keys    map[string]*keyState
	timers  timerHeap
	rr      int // shared: round-robin position
	space   chan struct{}
	nextID  int
	stats   groupStats
	stopped bool
	stopErr error  // why: ErrClosed, or ErrGroupNotFound once deleted
	intBuf  []byte // scratch for a group state value (saveFirstDelivery)

	tick   chan struct{} // wakes the timer loop; capacity 1
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type groupStats struct {
	delivered, redelivered, deadLettered, acked int64
}

// gpart is the group's cursor over one partition.
type gpart struct {
	idx     int
	next    int64               // next offset the reader reads
	floor   int64               // every offset below is settled
	settled map[int64]bool      // settled offsets at or above floor
	dc      map[int64]dlvRecord // delivery counts (and redelivery times) restored at load
	inMem   int                 // entries of this partition held in memory
	swept   map[int64]bool      // dead-lettered ahead of the reader by sweep, until settled
	sweepAt int64               // where the next sweep starts reading
	keys    partKeys            // its state's keys (gstate.go)
	handed  int64               // every offset below was delivered at least once
	acks    ackSaver            // acks above the floor, stored later (gacks.go)
}

// keyState tracks one key in a keyed group: the entries that hold it
// (delivered, waiting for redelivery or queued for a member) and the
// later entries of the key waiting their turn.
type keyState struct {
	held   int
	queued deque
}

func (g *group) id() string { return g.cfg.Stream + "/" + g.cfg.Name }

func (g *group) cfgKey() []byte { return meta.Key(meta.NSGroup, g.cfg.Stream, g.cfg.Name) }

// GroupInfo describes a group.
type GroupInfo struct {
	Config       GroupConfig
	Members      int
	InFlight     int   // delivered, not settled
	Lag          int64 // messages not yet settled, across partitions
	Delivered    int64
	Redelivered  int64
	DeadLettered int64
	Acked        int64
}

// CreateGroup creates a durable group on a stream.
func (b *Broker) CreateGroup(cfg GroupConfig) (GroupInfo, error) {
	if err := cfg.normalize(); err != nil {
		return GroupInfo{}, err
	}
	st, err := b.stream(cfg.Stream)
	if err != nil {
		return GroupInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.groups[cfg.Stream+"/"+cfg.Name] != nil {
		return GroupInfo{}, fmt.Errorf("%w: %s on stream %s", ErrGroupExists, cfg.Name, cfg.Stream)
	}
	g := newGroup(b, cfg, st)
	if err := g.initCursors(); err != nil {
		return GroupInfo{}, err
	}
	if err := putJSON(b.kv, g.cfgKey(), cfg); err != nil {
		return GroupInfo{}, err
	}
	b.groups[g.id()] = g
	g.start()
	return g.info(), nil
}

func newGroup(b *Broker, cfg GroupConfig, st *stream) *group {
	g := &group{b: b, cfg: cfg, st: st, keys: map[string]*keyState{},
		space: make(chan struct{}), tick: make(chan struct{}, 1), dlqWake: make(chan struct{}, 1)}
	g.ctx, g.cancel = context.WithCancel(b.ctx)
	for i := range st.cfg.Partitions {
		g.parts = append(g.parts, g.newPart(i))
	}
	return g
}

// initCursors places a new group's cursors at its start position and
// records them durably.
func (g *group) initCursors() error {
	for _, p := range g.parts {
		off, err := startOffset(g.st.partLog(p.idx), g.cfg.Start)
		if err != nil {
			return err
		}
		p.next, p.floor = off, off
		if err := g.b.kv.Set(g.floorKey(p.idx), encInt(off)); err != nil {
			return err
		}
	}
	return nil
}

func (b *Broker) loadGroups() error {
	var cfgs []GroupConfig
	err := b.kv.Scan(meta.Prefix(meta.NSGroup), func(_, v []byte) error {
		var c GroupConfig
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		cfgs = append(cfgs, c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	for _, c := range cfgs {
		st := b.streams[c.Stream]
		if st == nil {
			continue
		}
		g := newGroup(b, c, st)
		if err := g.loadState(); err != nil {
			return fmt.Errorf("load group %s: %w", g.id(), err)
		}
		b.groups[g.id()] = g
		g.start()
	}
	return nil
}

// group returns a group by stream and name.
func (b *Broker) group(stream, name string) (*group, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return nil, ErrClosed
	}
	g := b.groups[stream+"/"+name]
	if g == nil {
		return nil, fmt.Errorf("%w: %s on stream %s", ErrGroupNotFound, name, stream)
	}
	return g, nil
}

// start launches the readers and the timer loop.
func (g *group) start() {
	for _, p := range g.parts {
		g.wg.Add(1)
		go g.read(p)
	}
	g.wg.Add(2)
	go g.timerLoop()
	go g.deadLetters()
}

// grow follows partitions added to the stream, from their start.
func (g *group) grow(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := len(g.parts); i < n; i++ {
		p := g.newPart(i)
		g.parts = append(g.parts, p)
		g.deferSet(g.floorKey(i), encInt(0))
		g.wg.Add(1)
		go g.read(p)
	}
}

// stop ends the goroutines and every member; later settles fail with why.
func (g *group) stop(why error) {
	g.mu.Lock()
	if !g.stopped {
		g.storeAllAcksLocked()
	}
	g.stopped, g.stopErr = true, why
	members := append([]*Member(nil), g.members...)
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
	for _, m := range members {
		m.end(why)
	}
}

// GroupInfo returns a group's configuration and state.
func (b *Broker) GroupInfo(stream, name string) (GroupInfo, error) {
	g, err := b.group(stream, name)
	if err != nil {
		return GroupInfo{}, err
	}
	return g.info(), nil
}

// Groups lists the groups of a stream ("" for every stream).
func (b *Broker) Groups(stream string) []GroupInfo {
	b.mu.RLock()
	var list []*group
	for _, g := range b.groupList() {
		if stream == "" || g.cfg.Stream == stream {
			list = append(list, g)
		}
	}
	b.mu.RUnlock()
	out := make([]GroupInfo, 0, len(list))
	for _, g := range list {
		out = append(out, g.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Config.Name < out[j].Config.Name })
	return out
}

func (g *group) info() GroupInfo {
	g.mu.Lock()
	in := GroupInfo{Config: g.cfg, Members: len(g.members), Delivered: g.stats.delivered,
		Redelivered: g.stats.redelivered, DeadLettered: g.stats.deadLettered, Acked: g.stats.acked}
	for _, m := range g.members {
		in.InFlight += m.inflight
	}
	done := make([]int64, len(g.parts)) // settled offsets, by partition
	for i, p := range g.parts {
		done[i] = p.floor + int64(len(p.settled))
	}
	g.mu.Unlock()
	for i, n := range done { // the stream's lock is taken outside the group's
		if l := g.st.partLog(i); l != nil {
			in.Lag += max(0, l.HighWatermark()-n)
		}
	}
	return in
}

// DeleteGroup removes a group and its state; its members end.
func (b *Broker) DeleteGroup(stream, name string) error {
	g, err := b.group(stream, name)
	if err != nil {
		return err
	}
	b.mu.Lock()
	delete(b.groups, g.id())
	b.mu.Unlock()
	g.stop(ErrGroupNotFound)
	if err := b.kv.Delete(g.cfgKey()); err != nil {
		return err
	}
	return b.kv.DeletePrefix(g.cursorPrefix())
}

// wakeTimer nudges the timer loop after the earliest deadline changed.
func (g *group) wakeTimer() {
	select {
	case g.tick <- struct{}{}:
	default:
	}
}

// freeSpace wakes readers waiting for the read-ahead bound. Caller holds mu.
func (g *group) freeSpaceLocked() {
	close(g.space)
	g.space = make(chan struct{})
}

func nowTime() time.Time { return time.Now() }
