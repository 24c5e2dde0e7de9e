package mqtt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// neverExpires is a session expiry interval that never ends (a 3.1.1
// session without clean session, or v5's 0xFFFFFFFF).
const neverExpires = math.MaxUint32

// subSpec is one subscription of a session, as stored.
type subSpec struct {
	Filter  string `json:"f"`
	QoS     byte   `json:"q"`
	NoLocal bool   `json:"nl,omitempty"`
	RAP     bool   `json:"rap,omitempty"`
	SubID   int    `json:"id,omitempty"`
}

// sessionRecord is a persistent session in the sessions stream, keyed by
// client id.
type sessionRecord struct {
	Expiry       uint32    `json:"expiry"` // seconds
	Subs         []subSpec `json:"subs,omitempty"`
	Disconnected int64     `json:"disconnected,omitempty"` // Unix ms; 0 while connected
	// QoS2In and Pubrel are the session's QoS 2 packet ids in their
	// second half, saved at disconnection (so a restart keeps them, a
	// crash does not).
	QoS2In []uint16 `json:"qos2in,omitempty"`
	Pubrel []uint16 `json:"pubrel,omitempty"`
	// Will is a will waiting for its delay.
	Will *will `json:"will,omitempty"`
}

// session is a client's state across its connections. While a
// connection is attached, only its reader changes subs and pubrel; mu
// guards qos2in (the writer settles it) and, in the store, conn and the
// timers.
type session struct {
	id     string
	expiry uint32 // seconds; 0 ends the session with its connection
	subs   map[string]subSpec
	pubrel map[uint16]bool // QoS 2 messages sent, PUBREC received, PUBCOMP awaited
	stored bool            // has a record in the sessions stream
	// will is the will waiting for its delay (store.mu), and
	// disconnected when the last connection ended (Unix ms).
	will         *will
	disconnected int64

	mu     sync.Mutex
	qos2in map[uint16]bool // QoS 2 publishes received, PUBREL awaited

	conn  *conn       // store.mu
	timer *time.Timer // expiry while disconnected; store.mu
}

func newSession(id string) *session {
	return &session{id: id, subs: map[string]subSpec{}, pubrel: map[uint16]bool{}, qos2in: map[uint16]bool{}}
}

func (ss *session) persistent() bool { return ss.expiry > 0 }

// sessionStore holds every session, and the persistent ones also in the
// compacted stream Options.SessionsStream (subject "$mqtt.sessions").
type sessionStore struct {
	s  *Server
	mu sync.Mutex
	m  map[string]*session
	// wills are the delayed wills waiting to be published, by client id.
	wills map[string]*time.Timer
}

func openSessions(s *Server) (*sessionStore, error) {
	st := &sessionStore{s: s, m: map[string]*session{}, wills: map[string]*time.Timer{}}
	if err := ensureStream(s.b, s.opts.SessionsStream, sessionsSubject); err != nil {
		return nil, err
	}
	now := time.Now()
	err := loadLatest(s.b, s.opts.SessionsStream, func(m *broker.Message) {
		var rec sessionRecord
		if json.Unmarshal(m.Payload, &rec) != nil || rec.Expiry == 0 {
			return
		}
		ss := newSession(string(m.Key))
		ss.expiry, ss.stored = rec.Expiry, true
		for _, sp := range rec.Subs {
			ss.subs[sp.Filter] = sp
		}
		for _, id := range rec.Pubrel {
			ss.pubrel[id] = true
		}
		for _, id := range rec.QoS2In {
			ss.qos2in[id] = true
		}
		ss.disconnected = rec.Disconnected
		if rec.Will != nil {
			ss.will = rec.Will
			st.startWill(ss, rec.Will)
		}
		st.m[ss.id] = ss
		since := now
		if rec.Disconnected > 0 {
			since = time.UnixMilli(rec.Disconnected)
		}
		st.startExpiry(ss, since)
	})
	return st, err
}

// attach gives a connection its session, taking it over from a
// connection still attached. With clean it starts a new session. It
// reports whether a session was present.
func (st *sessionStore) attach(c *conn, id string, clean bool, expiry uint32) (*session, bool) {
	st.mu.Lock()
	for ss := st.m[id]; ss != nil && ss.conn != nil; ss = st.m[id] {
		old := ss.conn
		st.mu.Unlock()
		old.takeOver()
		st.mu.Lock()
	}
	defer st.mu.Unlock()
	if t := st.wills[id]; t != nil { // [MQTT-3.1.3-9]
		t.Stop()
		delete(st.wills, id)
	}
	ss := st.m[id]
	if ss != nil {
		ss.will = nil
	}
	present := ss != nil && !clean
	if ss != nil {
		if ss.timer != nil {
			ss.timer.Stop()
			ss.timer = nil
		}
		if clean {
			st.end(ss)
			ss = nil
		}
	}
	if ss == nil {
		ss = newSession(id)
		st.m[id] = ss
	}
	ss.conn, ss.expiry = c, expiry
	if ss.persistent() {
		st.save(ss, 0)
	}
	return ss, present
}

// detach lets go of a connection's session: a session with no expiry
// ends, the others are saved with their disconnection time (and their
// will waiting for its delay, if any) and expire later.
func (st *sessionStore) detach(c *conn, ss *session, pending *will) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if ss.conn != c {
		return
	}
	ss.conn, ss.will = nil, pending
	if !ss.persistent() {
		st.end(ss)
		return
	}
	now := time.Now()
	ss.disconnected = now.UnixMilli()
	st.save(ss, ss.disconnected)
	st.startExpiry(ss, now)
}

// startExpiry starts the timer that ends a disconnected session.
// Caller holds mu (or owns st).
func (st *sessionStore) startExpiry(ss *session, since time.Time) {
	if ss.expiry == neverExpires {
		return
	}
	d := time.Until(since.Add(time.Duration(ss.expiry) * time.Second))
	ss.timer = time.AfterFunc(max(d, 0), func() {
		st.s.goTracked(func() { st.expire(ss) })
	})
}

func (st *sessionStore) expire(ss *session) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m[ss.id] == ss && ss.conn == nil {
		st.end(ss)
	}
}

// end removes a session: its durable groups, its record. Caller holds mu.
func (st *sessionStore) end(ss *session) {
	if st.m[ss.id] == ss {
		delete(st.m, ss.id)
	}
	if ss.timer != nil {
		ss.timer.Stop()
		ss.timer = nil
	}
	for _, sp := range ss.subs {
		st.s.dropSessionGroups(ss.id, sp.Filter)
	}
	ss.subs = map[string]subSpec{}
	if ss.stored {
		st.write(ss.id, nil)
		ss.stored = false
	}
}

// save writes a persistent session's record. Caller holds mu, or is the
// attached connection's reader.
func (st *sessionStore) save(ss *session, disconnected int64) {
	rec := sessionRecord{Expiry: ss.expiry, Disconnected: disconnected}
	for _, sp := range ss.subs {
		rec.Subs = append(rec.Subs, sp)
	}
	if disconnected > 0 {
		rec.Will = ss.will
		for id := range ss.pubrel {
			rec.Pubrel = append(rec.Pubrel, id)
		}
		ss.mu.Lock()
		for id := range ss.qos2in {
			rec.QoS2In = append(rec.QoS2In, id)
		}
		ss.mu.Unlock()
	}
	b, err := json.Marshal(rec)
	if err == nil {
		st.write(ss.id, b)
		ss.stored = true
	}
}

// write stores (or with nil deletes) a record and waits until durable.
func (st *sessionStore) write(id string, payload []byte) {
	m := &broker.Message{Subject: sessionsSubject, Key: []byte(id), Payload: payload}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := st.s.b.Publish(ctx, m, broker.Expect{}); err != nil && !errors.Is(err, broker.ErrClosed) {
		st.s.log.Error("mqtt: cannot store session", "client", id, "err", err)
	}
}

// scheduleWill publishes a session's will when due, unless the client
// comes back first.
func (st *sessionStore) scheduleWill(ss *session, w *will) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if ss.will == w { // else the client came back already
		st.startWill(ss, w)
	}
}

// startWill starts a will's timer. Caller holds mu (or owns st). Once
// published, the will leaves the session's record.
func (st *sessionStore) startWill(ss *session, w *will) {
	id := ss.id
	if t := st.wills[id]; t != nil {
		t.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(max(time.Until(time.UnixMilli(w.Due)), 0), func() {
		st.mu.Lock()
		mine := st.wills[id] == t
		if mine {
			delete(st.wills, id)
		}
		st.mu.Unlock()
		if mine {
			st.s.goTracked(func() {
				st.s.publishWill(id, w)
				st.forgetWill(ss, w)
			})
		}
	})
	st.wills[id] = t
}

// forgetWill drops a published will from its session's record.
func (st *sessionStore) forgetWill(ss *session, w *will) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if ss.will != w {
		return
	}
	ss.will = nil
	if st.m[ss.id] == ss && ss.conn == nil && ss.stored {
		st.save(ss, ss.disconnected)
	}
}

// stopTimers stops the expiry and will timers (at Close).
func (st *sessionStore) stopTimers() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, ss := range st.m {
		if ss.timer != nil {
			ss.timer.Stop()
		}
	}
	for _, t := range st.wills {
		t.Stop()
	}
}

// sessionGroup names the durable group that holds a persistent session's
// messages for one subject pattern (on every stream it overlaps).
func sessionGroup(clientID, pattern string) string {
	h := sha256.Sum256([]byte(clientID + "\x00" + pattern))
	return "mqtt-" + hex.EncodeToString(h[:16])
}

// saveIfPersistent stores the session's subscriptions (reader only).
func (ss *session) saveIfPersistent(st *sessionStore) {
	if ss.persistent() {
		st.save(ss, 0)
	}
}
