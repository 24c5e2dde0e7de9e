package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Authentication of `courier serve`. --users-file names a file of
// user:password lines; every listener then requires one of those logins:
// Kafka (SASL PLAIN), AMQP (PLAIN or AMQPLAIN), MQTT (CONNECT's user name
// and password), STOMP (login and passcode), their WebSocket listeners,
// and the native API (HTTP Basic on every call; /healthz, /readyz and
// /metrics stay open). --kafka-users-file, older, is Kafka's alone: given
// with --users-file it replaces that file for Kafka only. Without a file
// a listener accepts any client, and serve logs a warning saying which.

// logins are the credentials the listeners require; nil means none.
type logins struct {
	all   map[string]string // every listener's (--users-file)
	kafka map[string]string // Kafka's: --kafka-users-file, else all
}

// readLogins reads the users files c names.
func readLogins(c serveConfig) (logins, error) {
	all, err := readUsers("--users-file", c.UsersFile)
	if err != nil {
		return logins{}, err
	}
	kafka, err := readUsers("--kafka-users-file", c.KafkaUsersFile)
	if err != nil {
		return logins{}, err
	}
	if kafka == nil {
		kafka = all
	}
	return logins{all: all, kafka: kafka}, nil
}

// warn logs one warning line when some listener accepts any client.
func (l logins) warn(log *slog.Logger) {
	switch {
	case l.all == nil && l.kafka == nil:
		log.Warn("authentication is off: every listener accepts any client (--users-file requires user:password logins)")
	case l.all == nil:
		log.Warn("authentication is off except for Kafka: the native API, AMQP, MQTT and STOMP accept any client " +
			"(--users-file requires user:password logins on every listener)")
	}
}

// readUsers reads the user:password lines of the file at path (blank
// lines and # comments skipped; a password may contain ':'); no path
// means no authentication, and a file without users is an error rather
// than a server no one can log in to.
func readUsers(flag, path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	users := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, p, ok := strings.Cut(line, ":")
		if !ok || u == "" {
			return nil, fmt.Errorf("%s: %s line %d: want user:password", flag, path, i+1)
		}
		users[u] = p
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: %s has no user:password line", flag, path)
	}
	return users, nil
}
