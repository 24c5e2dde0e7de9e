package mqtt

import (
	"errors"
	"fmt"
	"strings"

	"github.com/courier-mq/courier/internal/subject"
)

// Topic mapping (see the package doc): an MQTT topic's levels are a
// subject's tokens. A level that cannot be a token (empty, or holding
// '.', '*', '>' or white space) is refused, not escaped, so that every
// topic and its subject read the same in every protocol.

var (
	errEmptyLevel = errors.New("empty topic level (a leading, trailing or double '/')")
	errLevelChars = errors.New("a topic level may not contain '.', '*' or '>'")
	errDollar     = errors.New("topics starting with '$' are reserved to the server")
)

// topicToSubject maps a PUBLISH topic name to a subject.
func topicToSubject(topic string) (string, error) {
	if strings.HasPrefix(topic, "$") {
		return "", errDollar
	}
	return mapLevels(topic, false)
}

// mapLevels maps '/'-separated levels to '.'-separated tokens; with
// wildcards, '+' becomes '*' and a last '#' becomes '>'.
func mapLevels(topic string, wildcards bool) (string, error) {
	levels := strings.Split(topic, "/")
	for i, l := range levels {
		switch {
		case l == "":
			return "", errEmptyLevel
		case wildcards && l == "+":
			levels[i] = subject.Star
		case wildcards && l == "#":
			if i != len(levels)-1 {
				return "", errors.New("'#' must be the last level")
			}
			levels[i] = subject.Full
		case strings.ContainsAny(l, ".*>"):
			return "", errLevelChars
		case wildcards && strings.ContainsAny(l, "+#"):
			return "", errors.New("'+' and '#' must be whole levels")
		}
	}
	s := strings.Join(levels, ".")
	var err error
	if wildcards {
		err = subject.ValidatePattern(s)
	} else {
		err = subject.ValidateSubject(s)
	}
	if err != nil {
		return "", fmt.Errorf("topic %q maps to subject %q: %w", topic, s, err)
	}
	return s, nil
}

// subjectToTopic maps a subject back to a topic name.
func subjectToTopic(s string) string { return strings.ReplaceAll(s, ".", "/") }

// filter is a parsed topic filter.
type filter struct {
	share string // the group of a shared subscription ($share/G/f), or ""
	// patterns are the subject patterns the filter covers: "a/#" covers
	// "a" itself and "a.>".
	patterns []string
	// wild: the filter starts with a wildcard, so it does not match
	// subjects starting with '$' [MQTT-4.7.2-1].
	wild bool
}

// parseFilter parses a SUBSCRIBE topic filter.
func parseFilter(f string) (filter, error) {
	var out filter
	if rest, ok := strings.CutPrefix(f, "$share/"); ok {
		g, inner, ok := strings.Cut(rest, "/")
		if !ok || g == "" || inner == "" || strings.ContainsAny(g, "+#") {
			return out, errors.New("a shared subscription is $share/{group}/{filter}")
		}
		out.share, f = g, inner
	}
	p, err := mapLevels(f, true)
	if err != nil {
		return out, err
	}
	out.wild = strings.HasPrefix(f, "+") || strings.HasPrefix(f, "#")
	if parent, ok := strings.CutSuffix(p, "."+subject.Full); ok && out.share == "" {
		out.patterns = []string{parent, p}
	} else {
		out.patterns = []string{p}
	}
	return out, nil
}

// matches reports whether a subject is one the filter delivers.
func (f *filter) matches(subj string) bool {
	if f.wild && strings.HasPrefix(subj, "$") {
		return false
	}
	for _, p := range f.patterns {
		if subject.Match(p, subj) {
			return true
		}
	}
	return false
}
