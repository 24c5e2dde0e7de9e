package amqp

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// Exchange-to-exchange bindings. exchange.bind D S K puts a group named
// amqp-fwd-D on S's stream with K's patterns as its filters (as a queue
// binding would), and a forwarder of the server consumes it: each message
// is published again to D with the routing key it had on S, and acked
// once durable there (at-least-once: a message the forwarder published
// but had not acked when the server stopped is forwarded again). The
// exchanges a message went through travel in the amqp-via header, and a
// message never goes to an exchange twice, so cycles end. The source must
// have a stream (not the default exchange nor amq.topic). Forwarders
// start with the server for the groups that exist.

const (
	fwdPrefix = "amqp-fwd-"
	hdrVia    = "amqp-via"
	// amqTopicID names amq.topic in a forwarder's group name.
	amqTopicID = "amq-topic"
)

// fwdGroup names the forwarder group of destination ex.
func fwdGroup(ex *exchange) string {
	if ex == amqTopic {
		return fwdPrefix + amqTopicID
	}
	return fwdPrefix + ex.stream
}

// fwdDest finds a forwarder group's destination exchange.
func (s *Server) fwdDest(group string) *exchange {
	id := strings.TrimPrefix(group, fwdPrefix)
	if id == amqTopicID {
		return amqTopic
	}
	if ex := s.exchangeOfStream(id); ex != nil {
		return ex
	}
	return s.lookupExchange(id)
}

// exchangeBinding checks a binding of exchange dstName to srcName by
// key, and returns the source, the forwarder group that carries the
// binding (one per destination) and the key's filters.
func (s *Server) exchangeBinding(dstName, srcName, key string) (src *exchange, group string, filters []string, err error) {
	src, dst, err := s.bindExchanges(dstName, srcName)
	if err != nil {
		return nil, "", nil, err
	}
	if filters, err = src.bindFilters(key); err != nil {
		return nil, "", nil, err
	}
	return src, fwdGroup(dst), filters, nil
}

func (s *Server) bindExchanges(dstName, srcName string) (src, dst *exchange, err error) {
	if src = s.lookupExchange(srcName); src == nil {
		return nil, nil, newErr(codeNotFound, "no exchange '%s' in vhost '/'", srcName)
	}
	if dst = s.lookupExchange(dstName); dst == nil {
		return nil, nil, newErr(codeNotFound, "no exchange '%s' in vhost '/'", dstName)
	}
	if src.stream == "" || dst == defaultExchange {
		return nil, nil, newErr(codeAccessRefused, "exchange-to-exchange bindings from the default exchange or amq.topic, or to the default exchange, are not supported")
	}
	if err := s.ensureStream(src); err != nil {
		return nil, nil, err
	}
	return src, dst, nil
}

func (ch *channel) exchangeBind(m *exchangeBind) error {
	s := ch.c.s
	src, name, filters, err := s.exchangeBinding(m.Destination, m.Source, m.RoutingKey)
	if err != nil {
		return err
	}
	gi, err := s.b.GroupInfo(src.stream, name)
	if err == nil {
		all := slices.Clone(gi.Config.Filters)
		for _, f := range filters {
			if !slices.Contains(all, f) {
				all = append(all, f)
			}
		}
		_, err = s.b.SetGroupFilters(src.stream, name, all)
		if err != nil {
			return brokerErr(err, "exchange binding")
		}
		return ch.ok(m.NoWait, &exchangeBindOk{})
	}
	_, err = s.b.CreateGroup(broker.GroupConfig{Name: name, Stream: src.stream, Mode: broker.Shared,
		Start: broker.Start{Kind: broker.StartLatest}, Filters: filters})
	if err != nil && !errors.Is(err, broker.ErrGroupExists) {
		return brokerErr(err, "exchange binding")
	}
	s.startForwarder(src.stream, name)
	return ch.ok(m.NoWait, &exchangeBindOk{})
}

func (ch *channel) exchangeUnbind(m *exchangeUnbind) error {
	s := ch.c.s
	src, name, filters, err := s.exchangeBinding(m.Destination, m.Source, m.RoutingKey)
	if err != nil {
		return err
	}
	gi, err := s.b.GroupInfo(src.stream, name)
	if err != nil {
		return ch.ok(m.NoWait, &exchangeUnbindOk{})
	}
	rest := slices.DeleteFunc(slices.Clone(gi.Config.Filters), func(f string) bool { return slices.Contains(filters, f) })
	if len(rest) > 0 {
		_, err = s.b.SetGroupFilters(src.stream, name, rest)
	} else {
		err = s.b.DeleteGroup(src.stream, name)
	}
	if err != nil && !errors.Is(err, broker.ErrGroupNotFound) {
		return brokerErr(err, "exchange binding")
	}
	return ch.ok(m.NoWait, &exchangeUnbindOk{})
}

// startForwarders starts a forwarder for each forwarder group.
func (s *Server) startForwarders() {
	for _, g := range s.b.Groups("") {
		if strings.HasPrefix(g.Config.Name, fwdPrefix) {
			s.startForwarder(g.Config.Stream, g.Config.Name)
		}
	}
}

// startForwarder runs the forwarder of a group until the group is deleted
// or the server stops.
func (s *Server) startForwarder(stream, group string) {
	mem, err := s.b.Join(stream, group, 64)
	if err != nil {
		s.log.Warn("amqp: starting an exchange binding's forwarder", "stream", stream, "group", group, "err", err)
		return
	}
	started := s.conns.Go(func() {
		defer mem.Leave()
		for {
			select {
			case d := <-mem.C():
				s.forwardOne(stream, group, d)
			case <-mem.Done():
				return
			case <-s.fwdCtx.Done():
				return
			}
		}
	})
	if !started { // the server is closed
		mem.Leave()
	}
}

// forwardOne publishes one message to the forwarder's destination, then
// acks it; a failed publish is nacked, to be tried again.
func (s *Server) forwardOne(stream, group string, d *broker.Delivery) {
	dst := s.fwdDest(group)
	src := s.exchangeOfStream(stream)
	if src == nil {
		src = &exchange{name: stream, stream: stream, prefix: stream}
	}
	key := strings.TrimPrefix(strings.TrimPrefix(d.Subject, src.prefix), ".")
	via, _ := d.Header(hdrVia)
	path := strings.Split(via, ",")
	if dst == nil || slices.Contains(path, dst.name) || dst.name == src.name {
		d.Ack() // the destination is gone, or the message was there already
		return
	}
	subj, ok, err := dst.publishSubject(key)
	if !ok || err != nil {
		d.Ack()
		return
	}
	m := &broker.Message{Subject: subj, Payload: d.Payload, ReplyTo: d.ReplyTo, ID: d.ID, TTL: d.TTL, Time: d.Time}
	for _, h := range d.Headers {
		if h.Key != hdrVia && !strings.HasPrefix(h.Key, broker.HeaderPrefix) {
			m.Headers = append(m.Headers, h)
		}
	}
	if via == "" {
		via = src.name
	} else {
		via += "," + src.name
	}
	m.Headers = append(m.Headers, broker.Header{Key: hdrVia, Value: []byte(via)})
	if err := s.ensureStream(dst); err == nil {
		ctx, cancel := context.WithTimeout(s.fwdCtx, 30*time.Second)
		_, err = s.b.Publish(ctx, m, broker.Expect{})
		cancel()
		if err == nil {
			d.Ack()
			return
		}
	}
	s.log.Warn("amqp: forwarding through an exchange binding", "from", src.name, "to", dst.name, "err", err)
	d.Nack(time.Second)
}
