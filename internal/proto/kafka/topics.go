package kafka

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/courier-mq/courier/internal/broker"
)

// Topic names: see the package doc. A topic is the stream of the same
// name, and the name must be a valid stream name.
var (
	kafkaTopicRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
	streamNameRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	errTopicChars = "Courier topics (streams) use 1 to 128 letters, digits, '_' or '-'; '.' separates subject tokens, so it cannot be part of a topic name"
)

// checkTopic returns why name cannot be a topic, or "".
func checkTopic(name string) string {
	switch {
	case name == "." || name == "..":
		return fmt.Sprintf("topic name %q is not allowed", name)
	case !kafkaTopicRE.MatchString(name):
		return fmt.Sprintf("topic name %q is not a valid Kafka topic name", name)
	case !streamNameRE.MatchString(name):
		return fmt.Sprintf("topic name %q: %s", name, errTopicChars)
	}
	return ""
}

// topicSubjects are the subjects a stream created over Kafka captures.
func topicSubjects(topic string) []string { return []string{topic, topic + ".>"} }

// topicID derives a stable topic ID from the name, so that the ID is the
// same on every broker answer. (Courier does not serve requests by ID.)
func topicID(name string) [16]byte {
	sum := sha256.Sum256([]byte("courier-topic:" + name))
	var id [16]byte
	copy(id[:], sum[:16])
	return id
}

// Topic configurations mapped to a stream's configuration.
const (
	cfgCleanupPolicy  = "cleanup.policy"
	cfgRetentionMs    = "retention.ms"
	cfgRetentionBytes = "retention.bytes"
	cfgMaxMessage     = "max.message.bytes"
	cfgSegmentBytes   = "segment.bytes"
	cfgDeleteRetMs    = "delete.retention.ms"
)

// maxMessageBytes bounds max.message.bytes.
const maxMessageBytes = 64 << 20

// topicConfigNames lists the supported configurations, in the order
// DescribeConfigs answers them.
var topicConfigNames = []string{cfgCleanupPolicy, cfgRetentionMs, cfgRetentionBytes, cfgMaxMessage,
	cfgSegmentBytes, cfgDeleteRetMs}

// setTopicConfig applies one configuration to c; a nil value restores its
// default.
func setTopicConfig(c *broker.StreamConfig, name string, value *string) error {
	v := ""
	if value != nil {
		v = *value
	}
	switch name {
	case cfgCleanupPolicy:
		switch v {
		case "", "delete":
			c.Compact = false
		case "compact", "compact,delete", "delete,compact":
			c.Compact = true
		default:
			return fmt.Errorf("%s %q: must be delete or compact", name, v)
		}
	case cfgRetentionMs:
		n, err := parseLimit(name, v)
		if err != nil {
			return err
		}
		c.MaxAge = time.Duration(n) * time.Millisecond
	case cfgRetentionBytes:
		n, err := parseLimit(name, v)
		if err != nil {
			return err
		}
		c.MaxBytes = n
	case cfgMaxMessage:
		n, err := parseLimit(name, v)
		if err != nil {
			return err
		}
		if n > maxMessageBytes {
			return fmt.Errorf("%s %d: at most %d", name, n, maxMessageBytes)
		}
		c.MaxMsgSize = int(n)
	case cfgSegmentBytes:
		n, err := parseLimit(name, v)
		if err != nil {
			return err
		}
		c.SegmentBytes = n
	case cfgDeleteRetMs:
		n, err := parseLimit(name, v)
		if err != nil {
			return err
		}
		c.TombstoneRetention = time.Duration(n) * time.Millisecond
	default:
		return fmt.Errorf("config %q is not supported; supported: %v", name, topicConfigNames)
	}
	return nil
}

// parseLimit parses a limit where -1 (or empty) means none (0 in Courier).
func parseLimit(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < -1 {
		return 0, fmt.Errorf("%s %q: must be an integer, -1 for no limit", name, v)
	}
	return max(n, 0), nil
}

// topicConfigValue returns a stream's value for a configuration and
// whether it is the default.
func topicConfigValue(c broker.StreamConfig, name string) (string, bool) {
	switch name {
	case cfgCleanupPolicy:
		if c.Compact {
			return "compact", false
		}
		return "delete", true
	case cfgRetentionMs:
		if c.MaxAge == 0 {
			return "-1", true
		}
		return strconv.FormatInt(c.MaxAge.Milliseconds(), 10), false
	case cfgRetentionBytes:
		if c.MaxBytes == 0 {
			return "-1", true
		}
		return strconv.FormatInt(c.MaxBytes, 10), false
	case cfgSegmentBytes:
		if c.SegmentBytes == 0 {
			return strconv.Itoa(128 << 20), true
		}
		return strconv.FormatInt(c.SegmentBytes, 10), false
	case cfgDeleteRetMs:
		if c.TombstoneRetention == 0 {
			return strconv.FormatInt((24 * time.Hour).Milliseconds(), 10), true
		}
		return strconv.FormatInt(c.TombstoneRetention.Milliseconds(), 10), false
	case cfgMaxMessage:
		n := c.MaxMsgSize
		if n == 0 {
			n = broker.DefaultMaxMsgSize
		}
		return strconv.Itoa(n), n == broker.DefaultMaxMsgSize
	}
	return "", true
}
