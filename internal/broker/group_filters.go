package broker

import (
	"fmt"
	"slices"
	"sync"

	"github.com/courier-mq/courier/internal/subject"
)

// A group's subject filter is Filter, or any of Filters: a message is
// taken when its subject matches Filter or one of Filters, and every
// message is taken when both are empty. Several filters serve a front-end
// whose consumer binds one queue to a stream by several patterns (AMQP's
// queue.bind with two routing keys on one exchange). SetGroupFilters
// changes them while the group runs: messages read after the change are
// filtered by the new set; messages the group already took (or skipped)
// stay as they were.

// MaxGroupFilters bounds a group's Filters.
const MaxGroupFilters = 256

// matches reports whether the group takes a message of subject s.
func (c *GroupConfig) matches(s string) bool {
	if c.Filter == "" && len(c.Filters) == 0 {
		return true
	}
	if c.Filter != "" && subject.Match(c.Filter, s) {
		return true
	}
	for _, f := range c.Filters {
		if subject.Match(f, s) {
			return true
		}
	}
	return false
}

// validateFilters checks Filters; called by normalize.
func (c *GroupConfig) validateFilters() error {
	if len(c.Filters) > MaxGroupFilters {
		return invalid("group %s: %d filters, at most %d", c.Name, len(c.Filters), MaxGroupFilters)
	}
	for _, f := range c.Filters {
		if err := subject.ValidatePattern(f); err != nil {
			return fmt.Errorf("%w: filter: %w", ErrInvalid, err)
		}
	}
	return nil
}

// SetGroupFilters replaces a group's Filters (Filter is kept) and stores
// the new configuration durably. An empty list leaves Filter alone in
// charge, or lets every message through when Filter is empty too.
func (b *Broker) SetGroupFilters(stream, name string, filters []string) (GroupInfo, error) {
	g, err := b.group(stream, name)
	if err != nil {
		return GroupInfo{}, err
	}
	cfg := GroupConfig{Name: name, Filters: slices.Clone(filters)}
	if err := cfg.validateFilters(); err != nil {
		return GroupInfo{}, err
	}
	setFiltersMu.Lock() // one change at a time, so the stored one is the last
	defer setFiltersMu.Unlock()
	g.mu.Lock()
	next := g.cfg
	g.mu.Unlock()
	next.Filters = cfg.Filters
	if err := putJSON(b.kv, g.cfgKey(), next); err != nil { // no group lock across the write
		return GroupInfo{}, err
	}
	g.mu.Lock()
	g.cfg.Filters = cfg.Filters
	g.mu.Unlock()
	return g.info(), nil
}

// setFiltersMu serialises SetGroupFilters (it is taken before any group's
// mu, and never while one is held).
var setFiltersMu sync.Mutex
