package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/internal/broker"
)

// Pull consumers. Consume needs a bidi stream, hence HTTP/2; Fetch and
// Settle are unary, so curl or any HTTP/1.1 client can consume a group.
// A pull session is a pull member of the group (broker.JoinPull) that
// lives between calls: the first Fetch (with no session) joins and names
// the session, later calls name it. The group offers the session
// deliveries only while a Fetch asks for them, so an idle session holds
// back nothing but what it fetched and has not settled. A session idle for its idle time (the group's ack wait, at
// least minPullIdle) leaves the group, which gives its unsettled
// deliveries to the other members, as when a Consume stream ends. Calls
// on one session run one at a time.

const (
	minPullIdle   = 30 * time.Second
	maxFetch      = 1024             // deliveries in one Fetch answer
	maxFetchWait  = 60 * time.Second // longest Fetch wait
	sessionIDSize = 16               // random bytes of a session name
)

// errSessionNotFound is a Fetch or Settle naming no open session.
var errSessionNotFound = errors.New("pull session not found")

// pulls holds the open pull sessions.
type pulls struct {
	mu     sync.Mutex
	m      map[string]*pullSession
	closed bool
}

// pullSession is one pull consumer: its member, its deliveries, and the
// timer that ends it when idle.
type pullSession struct {
	id     string
	stream string
	group  string
	idle   time.Duration

	mu sync.Mutex // one call at a time; guards the fields below
	ledger
	m      *broker.Member
	buf    []*broker.Delivery
	timer  *time.Timer
	ended  bool
	lastAt time.Time
}

// open joins a group as a new session, ended after idle (or the group's
// ack wait if longer) without a call.
func (p *pulls) open(b *broker.Broker, stream, group string, idle time.Duration) (*pullSession, error) {
	m, err := b.JoinPull(stream, group)
	if err != nil {
		return nil, err
	}
	if gi, err := b.GroupInfo(stream, group); err == nil {
		idle = max(idle, gi.Config.AckWait)
	}
	raw := make([]byte, sessionIDSize)
	rand.Read(raw)
	ps := &pullSession{id: hex.EncodeToString(raw), stream: stream, group: group, idle: idle,
		ledger: newLedger(), m: m, lastAt: time.Now()}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		m.Leave()
		return nil, errShutdown
	}
	if p.m == nil {
		p.m = map[string]*pullSession{}
	}
	p.m[ps.id] = ps
	ps.mu.Lock() // expire reads the timer under it
	ps.timer = time.AfterFunc(idle, func() { p.expire(ps) })
	ps.mu.Unlock()
	return ps, nil
}

// get returns the open session id, locked; the caller unlocks it with
// done.
func (p *pulls) get(id, stream, group string) (*pullSession, error) {
	p.mu.Lock()
	ps := p.m[id]
	p.mu.Unlock()
	if ps == nil {
		return nil, fmt.Errorf("%w: %q (a session ends after its idle time, or when the server restarts): fetch without a session to open one", errSessionNotFound, id)
	}
	if (stream != "" && stream != ps.stream) || (group != "" && group != ps.group) {
		return nil, invalidArg("pull session %q consumes %s/%s, not %s/%s", id, ps.stream, ps.group, stream, group)
	}
	ps.mu.Lock()
	if ps.ended {
		ps.mu.Unlock()
		return nil, fmt.Errorf("%w: %q ended", errSessionNotFound, id)
	}
	return ps, nil
}

// done ends a call on ps: the idle time starts again.
func (ps *pullSession) done() {
	ps.lastAt = time.Now()
	ps.mu.Unlock()
}

// expire ends ps if it has been idle for its idle time (a call may have
// used it since the timer was set).
func (p *pulls) expire(ps *pullSession) {
	ps.mu.Lock()
	if wait := ps.idle - time.Since(ps.lastAt); wait > 0 && !ps.ended {
		ps.timer.Reset(wait)
		ps.mu.Unlock()
		return
	}
	ps.mu.Unlock()
	p.end(ps)
}

// end removes ps and leaves its group.
func (p *pulls) end(ps *pullSession) {
	p.mu.Lock()
	delete(p.m, ps.id)
	p.mu.Unlock()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.ended {
		return
	}
	ps.ended = true
	ps.timer.Stop()
	ps.m.Leave()
}

// closeAll ends every session, at shutdown.
func (p *pulls) closeAll() {
	p.mu.Lock()
	p.closed = true
	all := make([]*pullSession, 0, len(p.m))
	for _, ps := range p.m {
		all = append(all, ps)
	}
	p.mu.Unlock()
	for _, ps := range all {
		p.end(ps)
	}
}

// fetch takes up to limit deliveries, waiting up to wait for the first.
// Caller holds ps.mu.
func (ps *pullSession) fetch(ctx context.Context, quit <-chan struct{}, limit int, wait time.Duration) ([]*courierv1.Delivery, error) {
	ps.m.Want(limit)
	defer ps.m.Want(0) // what came too late goes back to the group
	var t <-chan time.Time
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		t = timer.C
	}
	for {
		ds := ps.m.Take(ps.buf[:0], limit)
		ps.buf = ds[:0]
		if len(ds) > 0 {
			out := make([]*courierv1.Delivery, len(ds))
			for i, d := range ds {
				out[i] = &courierv1.Delivery{DeliveryId: ps.record(d), Message: fromBroker(&d.Message)}
			}
			clear(ds)
			return out, nil
		}
		if t == nil {
			return nil, nil
		}
		select {
		case <-ps.m.Ready():
		case <-t:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-quit:
			return nil, errShutdown
		case <-ps.m.Done():
			return nil, ps.m.Err()
		}
	}
}
