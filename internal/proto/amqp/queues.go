package amqp

import (
	"crypto/rand"
	"errors"
	"slices"
	"strings"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/subject"
)

// Queue q is the shared group named q on the stream named q, which
// captures exactly the subject q (so the default exchange with routing key
// q reaches it). Each binding of q to an exchange puts a group named q on
// the exchange's stream, with the binding keys as its filters. A consumer
// of q joins group q on every stream that has one.

// queueAckWait is a queue's ack wait: AMQP has no ack deadline, so it is
// long (RabbitMQ's consumer_timeout default is 30 minutes).
const queueAckWait = 30 * 60e9

func (ch *channel) queueDeclare(m *queueDeclare) error {
	s := ch.c.s
	name := m.Queue
	if name == "" {
		name = "amq-gen-" + rand.Text()
	}
	if !validStreamName(name) {
		return newErr(codePreconditionFailed, "queue name '%s' is not a valid stream name: Courier keeps queue q as the group q on the stream q, named by [A-Za-z0-9_-]{1,128}", name)
	}
	if strings.HasPrefix(name, fwdPrefix) {
		return newErr(codeAccessRefused, "queue names starting with '%s' are reserved for exchange-to-exchange bindings", fwdPrefix)
	}
	if o := s.reg.owner(name); o != nil && o != ch.c {
		return newErr(codeResourceLocked, "cannot obtain exclusive access to locked queue '%s' in vhost '/'", name)
	}
	if _, err := s.b.GroupInfo(name, name); err != nil {
		if m.Passive {
			return newErr(codeNotFound, "no queue '%s' in vhost '/'", name)
		}
		if err := s.createQueue(name, m.Arguments); err != nil {
			return err
		}
		s.reg.mu.Lock()
		if m.Exclusive {
			s.reg.exclusive[name] = ch.c
		}
		if m.AutoDelete {
			s.reg.autoDel[name] = true
		}
		s.reg.mu.Unlock()
	}
	msgs, cons := s.queueCounts(name)
	return ch.ok(m.NoWait, &queueDeclareOk{Queue: name, MessageCount: msgs, ConsumerCount: cons})
}

// createQueue creates stream q (unless a stream named q exists) and the
// shared group q on it, applying the declare's arguments.
func (s *Server) createQueue(q string, args Table) error {
	sc := broker.StreamConfig{Name: q, Subjects: []string{q}, Partitions: 1}
	gc := broker.GroupConfig{Name: q, Stream: q, Mode: broker.Shared, Start: broker.Start{Kind: broker.StartEarliest}, AckWait: queueAckWait}
	if err := s.queueArgs(args, &sc, &gc); err != nil {
		return err
	}
	if _, err := s.b.CreateStream(sc); err != nil && !errors.Is(err, broker.ErrStreamExists) {
		return brokerErr(err, "queue '%s'", q)
	}
	if _, err := s.b.CreateGroup(gc); err != nil && !errors.Is(err, broker.ErrGroupExists) {
		return brokerErr(err, "queue '%s'", q)
	}
	return nil
}

// queueArgs maps x- arguments to stream and group settings.
func (s *Server) queueArgs(args Table, sc *broker.StreamConfig, gc *broker.GroupConfig) error {
	for k, v := range args {
		switch k {
		case "x-message-ttl":
			n, ok := argInt(v)
			if !ok || n < 0 {
				return newErr(codePreconditionFailed, "invalid arg 'x-message-ttl' for queue '%s': %v", sc.Name, v)
			}
			sc.DefaultTTL = msDuration(n)
		case "x-max-length":
			n, ok := argInt(v)
			if !ok || n < 0 {
				return newErr(codePreconditionFailed, "invalid arg 'x-max-length' for queue '%s': %v", sc.Name, v)
			}
			sc.MaxMsgs = n
		case "x-max-length-bytes":
			n, ok := argInt(v)
			if !ok || n < 0 {
				return newErr(codePreconditionFailed, "invalid arg 'x-max-length-bytes' for queue '%s': %v", sc.Name, v)
			}
			sc.MaxBytes = n
		case "x-overflow":
			switch v {
			case "drop-head":
				sc.Discard = broker.DiscardOld
			case "reject-publish":
				sc.Discard = broker.DiscardNew
			default:
				return newErr(codePreconditionFailed, "x-overflow '%v' is not supported: drop-head or reject-publish", v)
			}
		case "x-delivery-limit":
			n, ok := argInt(v)
			if !ok || n < 0 {
				return newErr(codePreconditionFailed, "invalid arg 'x-delivery-limit' for queue '%s': %v", sc.Name, v)
			}
			gc.MaxDeliveries = int(n) + 1 // the limit counts redeliveries
		case "x-single-active-consumer":
			if b, _ := v.(bool); b {
				gc.Mode = broker.Exclusive
			}
		}
	}
	dl, err := s.deadLetterSubject(args)
	if err != nil {
		return err
	}
	gc.DeadLetter = dl
	return nil
}

// deadLetterSubject maps x-dead-letter-exchange and -routing-key to the
// group's dead-letter subject.
func (s *Server) deadLetterSubject(args Table) (string, error) {
	dlx, ok := args["x-dead-letter-exchange"].(string)
	if !ok {
		return "", nil
	}
	key, _ := args["x-dead-letter-routing-key"].(string)
	ex := s.lookupExchange(dlx)
	if ex == nil {
		if !validStreamName(dlx) {
			return "", newErr(codePreconditionFailed, "x-dead-letter-exchange '%s' is not a valid exchange name for Courier", dlx)
		}
		ex = &exchange{name: dlx, stream: dlx, prefix: dlx}
	}
	subj, ok, err := ex.publishSubject(key)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", newErr(codePreconditionFailed, "dead-lettering to exchange '%s' needs x-dead-letter-routing-key (Courier dead-letters to one subject per queue)", dlx)
	}
	return subj, nil
}

func argInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int8:
		return int64(v), true
	case uint8:
		return int64(v), true
	case int16:
		return int64(v), true
	case uint16:
		return int64(v), true
	case int32:
		return int64(v), true
	case uint32:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// queueGroups returns the groups of queue q, on every stream.
func (s *Server) queueGroups(q string) []broker.GroupInfo {
	var out []broker.GroupInfo
	for _, g := range s.b.Groups("") {
		if g.Config.Name == q {
			out = append(out, g)
		}
	}
	return out
}

// queueCounts returns the messages ready in q (not in flight) and its
// consumers.
func (s *Server) queueCounts(q string) (msgs, cons uint32) {
	var n int64
	for _, g := range s.queueGroups(q) {
		n += max(g.Lag-int64(g.InFlight), 0)
	}
	return uint32(min(n, 1<<32-1)), uint32(s.reg.consumerCount(q))
}

// queueExists returns a 404 when q is not a queue.
func (s *Server) queueExists(q string) error {
	if _, err := s.b.GroupInfo(q, q); err != nil {
		return newErr(codeNotFound, "no queue '%s' in vhost '/'", q)
	}
	return nil
}

// checkOwner refuses a queue another connection holds exclusively.
func (ch *channel) checkOwner(q string) error {
	if o := ch.c.s.reg.owner(q); o != nil && o != ch.c {
		return newErr(codeResourceLocked, "cannot obtain exclusive access to locked queue '%s' in vhost '/'", q)
	}
	return nil
}

func (ch *channel) queueBind(m *queueBind) error {
	if err := ch.eachBindTarget(m.Queue, m.Exchange, m.RoutingKey, ch.c.s.addFilter); err != nil {
		return err
	}
	return ch.ok(m.NoWait, &queueBindOk{})
}

func (ch *channel) queueUnbind(m *queueUnbind) error {
	if err := ch.eachBindTarget(m.Queue, m.Exchange, m.RoutingKey, ch.c.s.removeFilter); err != nil {
		return err
	}
	return ch.ok(false, &queueUnbindOk{})
}

// eachBindTarget checks that this connection may bind queue q, and calls
// fn with each stream and filter of the binding of q to exchange by key.
func (ch *channel) eachBindTarget(q, exchange, key string, fn func(q, stream, filter string) error) error {
	s := ch.c.s
	if err := s.queueExists(q); err != nil {
		return err
	}
	if err := ch.checkOwner(q); err != nil {
		return err
	}
	targets, err := s.bindTargets(exchange, key)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if err := fn(q, t.stream, t.filter); err != nil {
			return err
		}
	}
	return nil
}

// bindTarget is one filter of a binding on one stream.
type bindTarget struct{ stream, filter string }

func (s *Server) bindTargets(exName, key string) ([]bindTarget, error) {
	ex := s.lookupExchange(exName)
	if ex == nil {
		return nil, newErr(codeNotFound, "no exchange '%s' in vhost '/'", exName)
	}
	if ex == defaultExchange {
		return nil, newErr(codeAccessRefused, "operation not permitted on the default exchange")
	}
	if ex.stream != "" {
		if err := s.ensureStream(ex); err != nil {
			return nil, err
		}
		fs, err := ex.bindFilters(key)
		if err != nil {
			return nil, err
		}
		out := make([]bindTarget, len(fs))
		for i, f := range fs {
			out[i] = bindTarget{ex.stream, f}
		}
		return out, nil
	}
	return s.topicTargets(key)
}

// topicTargets places amq.topic bindings: each pattern goes to the stream
// whose subjects cover it, since amq.topic publishes to the global
// subject K.
func (s *Server) topicTargets(key string) ([]bindTarget, error) {
	pats, err := topicPatterns("", key)
	if err != nil {
		return nil, err
	}
	var out []bindTarget
	for _, p := range pats {
		if err := subject.ValidatePattern(p); err != nil {
			return nil, newErr(codePreconditionFailed, "binding key '%s' does not map to a valid pattern: %v", key, err)
		}
		st := s.streamCovering(p)
		if st == "" {
			return nil, newErr(codePreconditionFailed, "no stream captures every subject matching '%s': amq.topic routes the global subjects, so create a stream for them first, or bind through a declared exchange", p)
		}
		out = append(out, bindTarget{st, p})
	}
	return out, nil
}

func (s *Server) streamCovering(p string) string {
	for _, si := range s.b.Streams() {
		for _, sp := range si.Config.Subjects {
			if subject.Subsumes(sp, p) {
				return si.Config.Name
			}
		}
	}
	return ""
}

// addFilter adds a binding's filter to group q on a stream, creating the
// group (from the queue's settings, starting at the stream's end) when
// absent. A consumer of q joins a new group at once.
func (s *Server) addFilter(q, stream, filter string) error {
	if stream == q {
		return nil // the queue's own group takes all of its stream
	}
	gi, err := s.b.GroupInfo(stream, q)
	if err == nil {
		if slices.Contains(gi.Config.Filters, filter) {
			return nil
		}
		_, err = s.b.SetGroupFilters(stream, q, append(slices.Clone(gi.Config.Filters), filter))
		return brokerErrOrNil(err, "binding of queue '%s'", q)
	}
	base, err := s.b.GroupInfo(q, q)
	if err != nil {
		return brokerErr(err, "queue '%s'", q)
	}
	gc := base.Config
	gc.Stream, gc.Filter, gc.Filters = stream, "", []string{filter}
	gc.Start = broker.Start{Kind: broker.StartLatest}
	if _, err := s.b.CreateGroup(gc); err != nil && !errors.Is(err, broker.ErrGroupExists) {
		return brokerErr(err, "binding of queue '%s'", q)
	}
	for _, cs := range s.reg.consumersOf(q) {
		cs.join(stream)
	}
	return nil
}

// removeFilter removes a binding's filter; a group left without filters
// is deleted.
func (s *Server) removeFilter(q, stream, filter string) error {
	if stream == q {
		return nil
	}
	gi, err := s.b.GroupInfo(stream, q)
	if err != nil {
		return nil // not bound: unbind is idempotent
	}
	rest := slices.DeleteFunc(slices.Clone(gi.Config.Filters), func(f string) bool { return f == filter })
	if len(rest) > 0 {
		_, err = s.b.SetGroupFilters(stream, q, rest)
		return brokerErrOrNil(err, "binding of queue '%s'", q)
	}
	if err := s.b.DeleteGroup(stream, q); err != nil && !errors.Is(err, broker.ErrGroupNotFound) {
		return brokerErr(err, "binding of queue '%s'", q)
	}
	return nil
}

func (ch *channel) queuePurge(m *queuePurge) error {
	s := ch.c.s
	if err := s.queueExists(m.Queue); err != nil {
		return err
	}
	if err := ch.checkOwner(m.Queue); err != nil {
		return err
	}
	msgs, _ := s.queueCounts(m.Queue)
	si, err := s.b.StreamInfo(m.Queue)
	if err != nil {
		return brokerErr(err, "queue '%s'", m.Queue)
	}
	if !isQueueStream(si) {
		return newErr(codePreconditionFailed, "queue '%s' lives on a stream that captures %v: purging it would remove other consumers' messages", m.Queue, si.Config.Subjects)
	}
	if err := s.b.Purge(m.Queue, broker.PurgeOptions{All: true}); err != nil {
		return brokerErr(err, "queue '%s'", m.Queue)
	}
	return ch.ok(m.NoWait, &queuePurgeOk{MessageCount: msgs})
}

func (ch *channel) queueDelete(m *queueDelete) error {
	s := ch.c.s
	if _, err := s.b.GroupInfo(m.Queue, m.Queue); err != nil {
		return ch.ok(m.NoWait, &queueDeleteOk{}) // deleting a missing queue is fine (RabbitMQ 3.x)
	}
	if err := ch.checkOwner(m.Queue); err != nil {
		return err
	}
	msgs, cons := s.queueCounts(m.Queue)
	if m.IfUnused && cons > 0 {
		return newErr(codePreconditionFailed, "queue '%s' in vhost '/' in use", m.Queue)
	}
	if m.IfEmpty && msgs > 0 {
		return newErr(codePreconditionFailed, "queue '%s' in vhost '/' is not empty", m.Queue)
	}
	if err := s.deleteQueue(m.Queue); err != nil {
		return err
	}
	return ch.ok(m.NoWait, &queueDeleteOk{MessageCount: msgs})
}

// deleteQueue deletes every group of q, then stream q when it has the
// queue shape and no other group.
func (s *Server) deleteQueue(q string) error {
	for _, g := range s.queueGroups(q) {
		if err := s.b.DeleteGroup(g.Config.Stream, q); err != nil && !errors.Is(err, broker.ErrGroupNotFound) {
			return brokerErr(err, "queue '%s'", q)
		}
	}
	s.reg.forgetQueue(q)
	si, err := s.b.StreamInfo(q)
	if err != nil || !isQueueStream(si) || len(s.b.Groups(q)) > 0 {
		return nil
	}
	if err := s.b.DeleteStream(q); err != nil && !errors.Is(err, broker.ErrStreamNotFound) && !errors.Is(err, broker.ErrStreamHasGroups) {
		return brokerErr(err, "queue '%s'", q)
	}
	return nil
}
