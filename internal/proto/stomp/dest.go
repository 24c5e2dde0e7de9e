package stomp

import (
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/subject"
)

// Destination prefixes (see doc.go, "Destinations").
const (
	prefixTopic    = "/topic/"
	prefixQueue    = "/queue/"
	prefixExchange = "/exchange/"
	// amqTopic is AMQP's topic exchange, whose routing keys are subjects
	// as they are (DESIGN.md, "Protocol mapping").
	amqTopic = "amq.topic"
)

// dest is a parsed destination.
type dest struct {
	queue    string // for /queue/q: q; else ""
	subject  string // what to publish to, or the pattern to subscribe to
	exchange string // for /exchange/X/K: X, to name deliveries the same way
}

// queueAckWait is a queue group's ack wait, as the AMQP front-end sets
// it: STOMP has no ack deadline, so it is long (RabbitMQ's
// consumer_timeout default, 30 minutes).
const queueAckWait = 30 * time.Minute

var queueNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// parseDest maps a destination to a queue or a subject (a pattern when
// pattern is set, for SUBSCRIBE).
func parseDest(s string, pattern bool) (dest, error) {
	switch {
	case strings.HasPrefix(s, prefixQueue):
		q := s[len(prefixQueue):]
		if !queueNameRE.MatchString(q) {
			return dest{}, protoErr("invalid queue name", "queue %q: a queue is a stream and its group, so its name must be 1 to 128 letters, digits, '_' or '-'", truncate([]byte(q)))
		}
		return dest{queue: q, subject: q}, nil
	case strings.HasPrefix(s, prefixTopic):
		return subjectDest(s, s[len(prefixTopic):], "", pattern)
	case strings.HasPrefix(s, prefixExchange):
		x, k, _ := strings.Cut(s[len(prefixExchange):], "/")
		if x == "" {
			return dest{}, protoErr("invalid destination", "destination %q names no exchange", truncate([]byte(s)))
		}
		switch {
		case x == amqTopic:
			return subjectDest(s, k, x, pattern)
		case k == "" && pattern:
			return subjectDest(s, x+".#", x, pattern)
		case k == "":
			return subjectDest(s, x, x, pattern)
		}
		return subjectDest(s, x+"."+k, x, pattern)
	case strings.HasPrefix(s, "/temp-queue/"), strings.HasPrefix(s, "/reply-queue/"), strings.HasPrefix(s, "/amq/queue/"):
		return dest{}, protoErr("unsupported destination", "destination %q: temporary and reply queues and /amq/queue/ are not supported; use /queue/ or /topic/", truncate([]byte(s)))
	}
	// No prefix: a subject, with '/' separating tokens as '.' does.
	return subjectDest(s, strings.ReplaceAll(strings.TrimPrefix(s, "/"), "/", "."), "", pattern)
}

// subjectDest validates subj as a subject or pattern. In a pattern a
// last token '#' (AMQP's and RabbitMQ's "zero or more words") becomes
// '>', which matches one or more.
func subjectDest(orig, subj, exchange string, pattern bool) (dest, error) {
	var err error
	if pattern {
		if subj == "#" {
			subj = ">"
		} else if strings.HasSuffix(subj, ".#") {
			subj = subj[:len(subj)-1] + ">"
		}
		err = subject.ValidatePattern(subj)
	} else {
		err = subject.ValidateSubject(subj)
	}
	if err != nil {
		return dest{}, protoErr("invalid destination", "destination %q: %v", truncate([]byte(orig)), err)
	}
	return dest{subject: subj, exchange: exchange}, nil
}

// deliveryDest names the destination of a message delivered on a
// subscription to d: the queue, the exchange form for an exchange
// subscription, else /topic/ and the subject.
func (d dest) deliveryDest(subj string) string {
	switch {
	case d.queue != "":
		return prefixQueue + d.queue
	case d.exchange == amqTopic:
		return prefixExchange + amqTopic + "/" + subj
	case d.exchange != "" && strings.HasPrefix(subj, d.exchange+"."):
		return prefixExchange + d.exchange + "/" + subj[len(d.exchange)+1:]
	case d.exchange != "" && subj == d.exchange:
		return prefixExchange + d.exchange
	}
	return prefixTopic + subj
}

// ensureQueue makes sure queue q exists: the shared group q on the
// stream q, which captures the subject q. The convention is the AMQP
// front-end's too. Creation races with other connections are harmless.
func (c *conn) ensureQueue(q string) error {
	if c.queues[q] {
		return nil
	}
	b := c.s.b
	_, err := b.StreamInfo(q)
	if errors.Is(err, broker.ErrStreamNotFound) {
		_, err = b.CreateStream(broker.StreamConfig{Name: q, Subjects: []string{q}, Partitions: 1})
		if errors.Is(err, broker.ErrStreamExists) {
			err = nil
		}
	}
	if err != nil {
		return protoErr("queue unavailable", "queue %s: %v", q, err)
	}
	_, err = b.CreateGroup(broker.GroupConfig{Name: q, Stream: q, Mode: broker.Shared, Start: broker.Start{Kind: broker.StartEarliest}, AckWait: queueAckWait})
	if err != nil && !errors.Is(err, broker.ErrGroupExists) {
		return protoErr("queue unavailable", "queue %s: %v", q, err)
	}
	c.queues[q] = true
	return nil
}

// queueStreams lists the streams that hold a group named q: the stream
// q and those where AMQP bindings put one.
func (c *conn) queueStreams(q string) []string {
	streams := []string{q}
	for _, g := range c.s.b.Groups("") {
		if g.Config.Name == q && g.Config.Stream != q {
			streams = append(streams, g.Config.Stream)
		}
	}
	return streams
}
