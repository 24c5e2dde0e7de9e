package amqp

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/subject"
)

// exchange is an exchange as Courier maps it: a stream that captures
// prefix and prefix.>, so that a publish with routing key K goes to the
// subject prefix.K (prefix alone when K is empty). The default exchange
// and amq.topic have no stream of their own: they publish to subject K.
type exchange struct {
	name   string
	stream string // "" for the default exchange and amq.topic
	prefix string
	typ    string // direct, topic, fanout; "" when found after a restart
}

// Exchange types.
const (
	typeDirect = "direct"
	typeTopic  = "topic"
	typeFanout = "fanout"
)

var (
	defaultExchange = &exchange{name: "", typ: typeDirect}
	amqTopic        = &exchange{name: "amq.topic", typ: typeTopic}
	// builtins are the predeclared exchanges with a stream of their own
	// (a stream name has no dots).
	builtins = map[string]*exchange{
		"amq.direct": {name: "amq.direct", stream: "amq-direct", prefix: "amq.direct", typ: typeDirect},
		"amq.fanout": {name: "amq.fanout", stream: "amq-fanout", prefix: "amq.fanout", typ: typeFanout},
	}
)

var streamNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

func validStreamName(s string) bool { return streamNameRE.MatchString(s) }

// isQueueStream reports whether a stream has the queue shape: it captures
// exactly the subject of its name.
func isQueueStream(si broker.StreamInfo) bool {
	return slices.Equal(si.Config.Subjects, []string{si.Config.Name})
}

func exchangeSubjects(prefix string) []string { return []string{prefix, prefix + ".>"} }

// lookupExchange finds an exchange: predeclared, known, or a stream of
// the exchange shape. nil when there is none.
func (s *Server) lookupExchange(name string) *exchange {
	switch name {
	case "":
		return defaultExchange
	case amqTopic.name:
		return amqTopic
	}
	if ex := builtins[name]; ex != nil {
		return ex
	}
	s.reg.mu.Lock()
	ex := s.reg.exchanges[name]
	s.reg.mu.Unlock()
	if ex != nil {
		return ex
	}
	if !validStreamName(name) {
		return nil
	}
	si, err := s.b.StreamInfo(name)
	if err != nil || isQueueStream(si) {
		return nil
	}
	ex = &exchange{name: name, stream: name, prefix: name}
	s.reg.mu.Lock()
	s.reg.exchanges[name] = ex
	s.reg.mu.Unlock()
	return ex
}

// ensureStream creates a builtin exchange's stream on first use.
// It remembers the streams it made sure of, so that a publish costs no
// CreateStream.
func (s *Server) ensureStream(ex *exchange) error {
	if ex.stream == "" {
		return nil
	}
	s.reg.mu.Lock()
	done := s.reg.ensured[ex.stream]
	s.reg.mu.Unlock()
	if done {
		return nil
	}
	_, err := s.b.CreateStream(broker.StreamConfig{Name: ex.stream, Subjects: exchangeSubjects(ex.prefix), Partitions: 1})
	if err != nil && !errors.Is(err, broker.ErrStreamExists) {
		return brokerErr(err, "exchange '%s'", ex.name)
	}
	s.reg.mu.Lock()
	s.reg.ensured[ex.stream] = true
	s.reg.mu.Unlock()
	return nil
}

func (ch *channel) exchangeDeclare(m *exchangeDeclare) error {
	s := ch.c.s
	if ex := s.lookupExchange(m.Exchange); ex != nil {
		if m.Passive {
			return ch.ok(m.NoWait, &exchangeDeclareOk{})
		}
		if err := s.checkType(ex, m.Type); err != nil {
			return err
		}
		if err := s.ensureStream(ex); err != nil {
			return err
		}
		return ch.ok(m.NoWait, &exchangeDeclareOk{})
	}
	if m.Passive {
		return newErr(codeNotFound, "no exchange '%s' in vhost '/'", m.Exchange)
	}
	if strings.HasPrefix(m.Exchange, "amq.") {
		return newErr(codeAccessRefused, "exchange name '%s' contains reserved prefix 'amq.'", m.Exchange)
	}
	if err := checkExchangeType(m.Type); err != nil {
		return err
	}
	if !validStreamName(m.Exchange) {
		return newErr(codePreconditionFailed, "exchange name '%s' is not a valid stream name: Courier keeps an exchange in a stream of the same name, [A-Za-z0-9_-]{1,128}", m.Exchange)
	}
	if si, err := s.b.StreamInfo(m.Exchange); err == nil && isQueueStream(si) {
		return newErr(codePreconditionFailed, "'%s' is a queue: Courier keeps exchanges and queues in one namespace of streams", m.Exchange)
	}
	ex := &exchange{name: m.Exchange, stream: m.Exchange, prefix: m.Exchange, typ: m.Type}
	if err := s.ensureStream(ex); err != nil {
		return err
	}
	s.reg.mu.Lock()
	s.reg.exchanges[ex.name] = ex
	s.reg.mu.Unlock()
	return ch.ok(m.NoWait, &exchangeDeclareOk{})
}

func checkExchangeType(t string) error {
	switch t {
	case typeDirect, typeTopic, typeFanout:
		return nil
	case "headers":
		return newErr(codePreconditionFailed, "exchange type 'headers' is not supported by Courier")
	}
	return newErr(codeCommandInvalid, "unknown exchange type '%s'", t)
}

// checkType compares a redeclared exchange's type with the known one; an
// exchange found after a restart takes the first type declared.
func (s *Server) checkType(ex *exchange, t string) error {
	if err := checkExchangeType(t); err != nil {
		return err
	}
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	if ex.typ == "" {
		ex.typ = t
	}
	if ex.typ != t {
		return newErr(codePreconditionFailed, "inequivalent arg 'type' for exchange '%s' in vhost '/': received '%s' but current is '%s'", ex.name, t, ex.typ)
	}
	return nil
}

func (ch *channel) exchangeDelete(m *exchangeDelete) error {
	s := ch.c.s
	if m.Exchange == "" || strings.HasPrefix(m.Exchange, "amq.") {
		return newErr(codeAccessRefused, "operation not permitted on the default exchange or an amq.* exchange")
	}
	ex := s.lookupExchange(m.Exchange)
	if ex == nil {
		return ch.ok(m.NoWait, &exchangeDeleteOk{})
	}
	si, err := s.b.StreamInfo(ex.stream)
	if err != nil {
		return brokerErr(err, "exchange '%s'", ex.name)
	}
	if !slices.Equal(si.Config.Subjects, exchangeSubjects(ex.prefix)) {
		return newErr(codePreconditionFailed, "stream '%s' was not made by exchange.declare (its subjects are %v): delete it with the stream API", ex.stream, si.Config.Subjects)
	}
	groups := s.b.Groups(ex.stream)
	if m.IfUnused && len(groups) > 0 {
		return newErr(codePreconditionFailed, "exchange '%s' in vhost '/' in use", ex.name)
	}
	for _, g := range groups {
		if err := s.b.DeleteGroup(ex.stream, g.Config.Name); err != nil && !errors.Is(err, broker.ErrGroupNotFound) {
			return brokerErr(err, "binding of '%s'", g.Config.Name)
		}
	}
	for _, g := range s.b.Groups("") { // bindings to it from other exchanges
		if g.Config.Name == fwdGroup(ex) {
			if err := s.b.DeleteGroup(g.Config.Stream, g.Config.Name); err != nil && !errors.Is(err, broker.ErrGroupNotFound) {
				return brokerErr(err, "exchange binding to '%s'", ex.name)
			}
		}
	}
	if err := s.b.DeleteStream(ex.stream); err != nil && !errors.Is(err, broker.ErrStreamNotFound) {
		return brokerErr(err, "exchange '%s'", ex.name)
	}
	s.reg.mu.Lock()
	delete(s.reg.exchanges, ex.name)
	delete(s.reg.ensured, ex.stream)
	s.reg.mu.Unlock()
	return ch.ok(m.NoWait, &exchangeDeleteOk{})
}

// publishSubject maps an exchange and routing key to a subject; ok is
// false when the key cannot be routed (an empty key on the default
// exchange or amq.topic).
func (ex *exchange) publishSubject(key string) (string, bool, error) {
	subj := key
	if ex.stream != "" {
		subj = ex.prefix
		if key != "" {
			subj += "." + key
		}
	} else if key == "" {
		return "", false, nil
	}
	if err := subject.ValidateSubject(subj); err != nil {
		return "", false, newErr(codePreconditionFailed, "routing key '%s' on exchange '%s' does not map to a valid subject: %v", key, ex.name, err)
	}
	return subj, true, nil
}

// bindFilters maps a binding key to subject patterns on the exchange's
// subjects (see doc.go for the topic rules).
func (ex *exchange) bindFilters(key string) ([]string, error) {
	typ := ex.typ
	if typ == "" {
		typ = typeTopic // found after a restart: a literal key binds the same either way
	}
	var pats []string
	switch typ {
	case typeFanout:
		return []string{">"}, nil
	case typeDirect:
		subj, _, err := ex.publishSubject(key)
		if err != nil || subj == "" {
			return nil, newErr(codePreconditionFailed, "binding key '%s' on direct exchange '%s' does not map to a subject", key, ex.name)
		}
		return []string{subj}, nil
	default:
		var err error
		if pats, err = topicPatterns(ex.prefix, key); err != nil {
			return nil, err
		}
	}
	for _, p := range pats {
		if err := subject.ValidatePattern(p); err != nil {
			return nil, newErr(codePreconditionFailed, "binding key '%s' does not map to a valid pattern: %v", key, err)
		}
	}
	return pats, nil
}

// topicPatterns translates a topic binding key: '*' stays '*'; '#' may
// only be the last word and becomes '>' plus, since '#' also matches zero
// words, the pattern without it.
func topicPatterns(prefix, key string) ([]string, error) {
	words := strings.Split(key, ".")
	if key == "" {
		words = nil
	}
	for i, w := range words {
		if w == "#" && i != len(words)-1 {
			return nil, newErr(codePreconditionFailed, "binding key '%s': '#' is supported only as the last word (Courier's '>' ends a pattern)", key)
		}
	}
	join := func(ws []string) string {
		all := ws
		if prefix != "" {
			all = append([]string{prefix}, ws...)
		}
		return strings.Join(all, ".")
	}
	if n := len(words); n > 0 && words[n-1] == "#" {
		pats := []string{join(append(slices.Clone(words[:n-1]), ">"))}
		if n > 1 || prefix != "" {
			pats = append(pats, join(words[:n-1]))
		}
		return pats, nil
	}
	if prefix == "" && len(words) == 0 {
		return nil, newErr(codePreconditionFailed, "an empty binding key on amq.topic matches no subject")
	}
	return []string{join(words)}, nil
}
