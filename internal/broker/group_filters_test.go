package broker

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A group with several filters takes the messages that match any of them,
// and SetGroupFilters changes the set for later messages, durably.
func TestGroupFiltersSeveralAndRuntimeChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "x", Subjects: []string{"x", "x.>"}, Partitions: 1})
		e.group(GroupConfig{Name: "q", Stream: "x", Filters: []string{"x.a", "x.b.*"}})
		for _, s := range []string{"x.a", "x.c", "x.b.1", "x", "x.b"} {
			e.pub(s, s)
		}
		m := join(t, e.b, "x", "q", 0)
		got := grpRecvN(t, m, 2)
		if p := grpPayloads(got); !grpEqual(p, []string{"x.a", "x.b.1"}) {
			t.Fatalf("got %v, want [x.a x.b.1]", p)
		}
		grpAckAll(t, got)
		if _, err := e.b.SetGroupFilters("x", "q", []string{"x.c"}); err != nil {
			t.Fatal(err)
		}
		e.pub("x.a", "late-a")
		e.pub("x.c", "late-c")
		d := grpRecvWithin(t, m, time.Second)
		if string(d.Payload) != "late-c" {
			t.Fatalf("after the change got %q, want late-c", d.Payload)
		}
		grpAckAll(t, []*Delivery{d})
		m.Leave()
		e.restart()
		if f := grpInfo(t, e.b, "x", "q").Config.Filters; !grpEqual(f, []string{"x.c"}) {
			t.Fatalf("filters after restart %v, want [x.c]", f)
		}
	})
}

// Bad filters are refused at creation and at change.
func TestGroupFiltersValidation(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "x", Subjects: []string{"x.>"}, Partitions: 1})
	if _, err := e.b.CreateGroup(GroupConfig{Name: "q", Stream: "x", Filters: []string{"x..a"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("create with a bad filter: %v, want ErrInvalid", err)
	}
	e.group(GroupConfig{Name: "q", Stream: "x"})
	if _, err := e.b.SetGroupFilters("x", "q", []string{"x.>.a"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("set a bad filter: %v, want ErrInvalid", err)
	}
	if _, err := e.b.SetGroupFilters("x", "nope", nil); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("set on a missing group: %v, want ErrGroupNotFound", err)
	}
}
