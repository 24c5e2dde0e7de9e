package mqtt

import (
	"errors"
	"fmt"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/subject"
)

// ensureStream creates one of the front-end's compacted streams, or
// checks that the existing one captures its subject.
func ensureStream(b *broker.Broker, name, subj string) error {
	_, err := b.CreateStream(broker.StreamConfig{Name: name, Subjects: []string{subj}, Partitions: 1, Compact: true})
	if errors.Is(err, broker.ErrStreamExists) {
		info, ierr := b.StreamInfo(name)
		if ierr != nil {
			return fmt.Errorf("mqtt: stream %s: %w", name, ierr)
		}
		for _, p := range info.Config.Subjects {
			if subject.Match(p, subj) {
				return nil
			}
		}
		return fmt.Errorf("mqtt: stream %s exists and does not capture %s", name, subj)
	}
	if err != nil {
		return fmt.Errorf("mqtt: create stream %s for %s: %w", name, subj, err)
	}
	return nil
}

// loadLatest reads a compacted stream and calls fn with the newest
// message of each key, in key order of first appearance (an empty
// payload deletes its key and is not passed on).
func loadLatest(b *broker.Broker, stream string, fn func(*broker.Message)) error {
	info, err := b.StreamInfo(stream)
	if err != nil {
		return err
	}
	latest := map[string]*broker.Message{}
	var order []string
	for _, p := range info.Partitions {
		off := p.StartOffset
		for off < p.HighWatermark {
			ms, next, err := b.ReadMessages(stream, p.Partition, off, 256)
			if err != nil {
				return fmt.Errorf("mqtt: read %s: %w", stream, err)
			}
			if next <= off {
				break
			}
			for _, m := range ms {
				k := string(m.Key)
				if _, ok := latest[k]; !ok {
					order = append(order, k)
				}
				latest[k] = m
			}
			off = next
		}
	}
	for _, k := range order {
		if m := latest[k]; len(m.Payload) > 0 {
			fn(m)
		}
	}
	return nil
}

// internalStream reports whether a stream is one of the front-end's own.
func (s *Server) internalStream(name string) bool {
	return name == s.opts.RetainedStream || name == s.opts.SessionsStream
}

// streamsFor returns the (non-internal) streams that capture some subject
// matching pattern.
func (s *Server) streamsFor(pattern string) []string {
	var out []string
	for _, st := range s.b.Streams() {
		if s.internalStream(st.Config.Name) {
			continue
		}
		for _, p := range st.Config.Subjects {
			if subject.Overlaps(p, pattern) {
				out = append(out, st.Config.Name)
				break
			}
		}
	}
	return out
}
