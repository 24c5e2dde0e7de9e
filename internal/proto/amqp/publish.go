package amqp

import (
	"context"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/subject"
)

// pending is a basic.publish whose content is being read: the content
// header, then body frames up to the size it announced.
type pending struct {
	m    *basicPublish
	ex   *exchange
	hdr  *contentHeader
	body []byte
}

// confirm is one publish in confirm mode: wait (nil when there is
// nothing to wait for) returns once the message is durable.
type confirm struct {
	seq  uint64
	wait func(context.Context) (broker.PubAck, error)
	err  error
}

// confirmQueue bounds the publishes waiting for their confirms.
const confirmQueue = 1024

func (ch *channel) basicPublish(m *basicPublish) error {
	ex := ch.c.s.lookupExchange(m.Exchange)
	if ex == nil {
		return newErr(codeNotFound, "no exchange '%s' in vhost '/'", m.Exchange)
	}
	if m.Immediate {
		return newErr(codeNotImplemented, "immediate=true")
	}
	ch.pub = &pending{m: m, ex: ex}
	return nil
}

// content takes a content header or body frame of the pending publish.
func (ch *channel) content(f frame) error {
	p := ch.pub
	if p == nil {
		return newErr(codeUnexpectedFrame, "content frame on channel %d without basic.publish", ch.id)
	}
	if f.typ == frameHeader {
		if p.hdr != nil {
			return newErr(codeUnexpectedFrame, "second content header on channel %d", ch.id)
		}
		h, err := readContentHeader(f.payload)
		if err != nil {
			return err
		}
		if h.class != classBasic {
			return newErr(codeUnexpectedFrame, "content header of class %d, not basic", h.class)
		}
		if h.bodySize > ch.c.s.opts.MaxBodySize {
			ch.pub = nil
			return newErr(codePreconditionFailed, "message size %d is larger than max size %d", h.bodySize, ch.c.s.opts.MaxBodySize)
		}
		p.hdr = &h
		p.body = make([]byte, 0, min(h.bodySize, 64<<10))
	} else {
		if p.hdr == nil {
			return newErr(codeUnexpectedFrame, "body frame on channel %d before the content header", ch.id)
		}
		if uint64(len(p.body))+uint64(len(f.payload)) > p.hdr.bodySize {
			return frameErr(codeFrameError, "FRAME_ERROR - body of more than the %d bytes announced", p.hdr.bodySize)
		}
		p.body = append(p.body, f.payload...)
	}
	if uint64(len(p.body)) < p.hdr.bodySize {
		return nil
	}
	ch.pub = nil
	return ch.publish(p)
}

// publish routes a complete message.
func (ch *channel) publish(p *pending) error {
	s := ch.c.s
	var seq uint64
	if ch.confirm {
		ch.pubSeq++
		seq = ch.pubSeq
	}
	subj, routable, err := p.ex.publishSubject(p.m.RoutingKey)
	if err != nil {
		return err
	}
	msg, err := ch.toMessage(subj, &p.hdr.props, p.body)
	if err != nil {
		return err
	}
	if routable && p.m.Mandatory {
		routable = s.routed(subj)
	}
	if !routable {
		if p.m.Mandatory {
			ret := &basicReturn{ReplyCode: codeNoRoute, ReplyText: "NO_ROUTE", Exchange: p.m.Exchange, RoutingKey: p.m.RoutingKey}
			ch.c.send(appendContent(nil, ch.id, ret, &p.hdr.props, p.body, ch.c.frameMax.Load()))
		}
		ch.confirmed(confirm{seq: seq})
		return nil
	}
	if err := s.ensureStream(p.ex); err != nil {
		return err
	}
	if ch.tx {
		ch.txPubs = append(ch.txPubs, msg) // body is the publish's own
		return nil
	}
	wait, err := s.b.PublishAsync(msg, broker.Expect{})
	if err != nil {
		if ch.confirm {
			s.log.Debug("amqp: publish refused", "subject", subj, "err", err)
			ch.confirmed(confirm{seq: seq, err: err})
			return nil
		}
		return brokerErr(err, "publish to exchange '%s' with routing key '%s'", p.m.Exchange, p.m.RoutingKey)
	}
	ch.confirmed(confirm{seq: seq, wait: wait})
	return nil
}

// routed reports whether some queue takes a message of subj: a stream
// captures it and one of the stream's groups matches it.
func (s *Server) routed(subj string) bool {
	st := s.streamCovering(subj)
	if st == "" {
		return false
	}
	for _, g := range s.b.Groups(st) {
		if groupMatches(&g.Config, subj) {
			return true
		}
	}
	return false
}

func groupMatches(c *broker.GroupConfig, subj string) bool {
	if c.Filter == "" && len(c.Filters) == 0 {
		return true
	}
	if c.Filter != "" && subject.Match(c.Filter, subj) {
		return true
	}
	for _, f := range c.Filters {
		if subject.Match(f, subj) {
			return true
		}
	}
	return false
}

func (ch *channel) confirmSelect(m *confirmSelect) error {
	if ch.tx {
		return newErr(codePreconditionFailed, "cannot switch from tx to confirm mode")
	}
	if !ch.confirm {
		ch.confirm = true
		ch.confirmQ = make(chan confirm, confirmQueue)
		ch.confDone = make(chan struct{})
		ch.c.wg.Add(1)
		go ch.confirmLoop()
	}
	return ch.ok(m.Nowait, &confirmSelectOk{})
}

// confirmed hands a publish to the confirmer (in confirm mode).
func (ch *channel) confirmed(cf confirm) {
	if !ch.confirm {
		return
	}
	select {
	case ch.confirmQ <- cf:
	case <-ch.c.ctx.Done():
	}
}

// confirmLoop acks each publish once it is durable (nacks it when it
// failed), in publish order.
func (ch *channel) confirmLoop() {
	defer ch.c.wg.Done()
	defer close(ch.confDone)
	defer ch.c.recoverConn("confirmer")
	for cf := range ch.confirmQ {
		err := cf.err
		if cf.wait != nil && err == nil {
			_, err = cf.wait(ch.c.ctx)
		}
		if ch.c.ctx.Err() != nil {
			continue
		}
		if err != nil {
			ch.c.s.log.Debug("amqp: publish failed", "seq", cf.seq, "err", err)
			ch.send(&basicNack{DeliveryTag: cf.seq})
		} else {
			ch.send(&basicAck{DeliveryTag: cf.seq})
		}
	}
}
