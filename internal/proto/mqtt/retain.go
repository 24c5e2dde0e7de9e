package mqtt

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// retainStore keeps the newest retained message per topic. The compacted
// stream Options.RetainedStream (subject "$mqtt.retained", the topic as
// key, an empty payload deleting it) is the record; the map is an index
// of it, rebuilt at start.
type retainStore struct {
	s  *Server
	mu sync.RWMutex
	m  map[string]*broker.Message // by topic; Subject is the topic's subject
}

// hdrExpires carries a retained message's expiry (Unix ms) in the stream.
const hdrExpires = "mqtt-expires-at"

func openRetained(s *Server) (*retainStore, error) {
	r := &retainStore{s: s, m: map[string]*broker.Message{}}
	if err := ensureStream(s.b, s.opts.RetainedStream, retainedSubject); err != nil {
		return nil, err
	}
	err := loadLatest(s.b, s.opts.RetainedStream, func(m *broker.Message) {
		topic := string(m.Key)
		subj, err := topicToSubject(topic)
		if err != nil {
			return
		}
		m.Subject = subj
		r.m[topic] = m
	})
	return r, err
}

// set stores m as the retained message of topic (an empty payload clears
// it) and returns a wait for its durability.
func (r *retainStore) set(topic string, m *broker.Message) (func(context.Context) error, error) {
	rm := &broker.Message{Subject: retainedSubject, Key: []byte(topic), Payload: m.Payload, ReplyTo: m.ReplyTo}
	rm.Headers = append(rm.Headers, m.Headers...)
	if m.TTL > 0 {
		exp := time.Now().Add(m.TTL).UnixMilli()
		rm.Headers = append(rm.Headers, broker.Header{Key: hdrExpires, Value: strconv.AppendInt(nil, exp, 10)})
	}
	r.mu.Lock()
	defer r.mu.Unlock() // held so that the index follows the stream's order
	wait, err := r.s.b.PublishAsync(rm, broker.Expect{})
	if err != nil {
		return nil, err
	}
	if len(m.Payload) == 0 {
		delete(r.m, topic)
	} else {
		idx := *rm
		idx.Subject = m.Subject
		r.m[topic] = &idx
	}
	return func(ctx context.Context) error { _, err := wait(ctx); return err }, nil
}

// match returns the retained messages a filter matches, dropping expired
// ones.
func (r *retainStore) match(f *filter) []*broker.Message {
	r.mu.RLock()
	defer r.mu.RUnlock()
	now := time.Now().UnixMilli()
	var out []*broker.Message
	for _, m := range r.m {
		if f.matches(m.Subject) && !expiredAt(m, now) {
			out = append(out, m)
		}
	}
	return out
}

func expiredAt(m *broker.Message, now int64) bool {
	v, ok := m.Header(hdrExpires)
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(v, 10, 64)
	return err == nil && exp <= now
}
