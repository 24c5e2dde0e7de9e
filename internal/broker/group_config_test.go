package broker

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestGroupCreateErrors(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", Subjects: []string{"s.>"}})
	e.group(GroupConfig{Name: "g", Stream: "s"})

	if _, err := e.b.CreateGroup(GroupConfig{Name: "g", Stream: "nope"}); !errors.Is(err, ErrStreamNotFound) {
		t.Errorf("unknown stream: %v, want ErrStreamNotFound", err)
	}
	if _, err := e.b.CreateGroup(GroupConfig{Name: "g", Stream: "s"}); !errors.Is(err, ErrGroupExists) {
		t.Errorf("duplicate: %v, want ErrGroupExists", err)
	}
	if _, err := e.b.CreateGroup(GroupConfig{Name: "g", Stream: "s", Mode: Keyed}); !errors.Is(err, ErrGroupExists) {
		t.Errorf("duplicate with another config: %v, want ErrGroupExists", err)
	}
	for name, c := range map[string]GroupConfig{
		"empty name":           {Name: ""},
		"bad name":             {Name: "a b"},
		"slash in name":        {Name: "a/b"},
		"long name":            {Name: string(make([]byte, 129))},
		"mode":                 {Name: "x", Mode: "fanout"},
		"filter":               {Name: "x", Filter: "s..a"},
		"filter wildcard":      {Name: "x", Filter: "s.>.a"},
		"dead letter pattern":  {Name: "x", DeadLetter: "dlq.*"},
		"dead letter empty tk": {Name: "x", DeadLetter: "dlq..x"},
		"negative ack wait":    {Name: "x", AckWait: -time.Second},
		"negative in flight":   {Name: "x", MaxInFlight: -1},
		"negative deliveries":  {Name: "x", MaxDeliveries: -1},
		"negative pending":     {Name: "x", MaxPending: -1},
		"start kind":           {Name: "x", Start: Start{Kind: "middle"}},
	} {
		c.Stream = "s"
		if _, err := e.b.CreateGroup(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if n := len(e.b.Groups("s")); n != 1 {
		t.Fatalf("%d groups after failed creates, want 1", n)
	}
	e.restart()
	if n := len(e.b.Groups("s")); n != 1 {
		t.Fatalf("%d groups after restart, want 1", n)
	}
}

// A negative backoff step is as invalid as a negative ack wait.
func TestGroupCreateNegativeBackoff(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s"})
	_, err := e.b.CreateGroup(GroupConfig{Name: "x", Stream: "s", Backoff: []time.Duration{time.Second, -time.Second}})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative backoff: %v, want ErrInvalid", err)
	}
}

func TestGroupDefaults(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s"})
	in, err := e.b.CreateGroup(GroupConfig{Name: "g", Stream: "s"})
	if err != nil {
		t.Fatal(err)
	}
	c := in.Config
	if c.Mode != Shared || c.Start.Kind != StartEarliest || c.AckWait != DefaultAckWait ||
		c.MaxInFlight != DefaultMaxInFlight || c.MaxPending != DefaultMaxPending || c.MaxDeliveries != 0 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestGroupUnknown(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s"})
	if _, err := e.b.Join("s", "nope", 0); !errors.Is(err, ErrGroupNotFound) {
		t.Errorf("join unknown group: %v", err)
	}
	if _, err := e.b.Join("nope", "g", 0); !errors.Is(err, ErrGroupNotFound) && !errors.Is(err, ErrStreamNotFound) {
		t.Errorf("join on unknown stream: %v", err)
	}
	if _, err := e.b.GroupInfo("s", "nope"); !errors.Is(err, ErrGroupNotFound) {
		t.Errorf("info of unknown group: %v", err)
	}
	if err := e.b.DeleteGroup("s", "nope"); !errors.Is(err, ErrGroupNotFound) {
		t.Errorf("delete unknown group: %v", err)
	}
	if n := len(e.b.Groups("nope")); n != 0 {
		t.Errorf("groups of unknown stream: %d", n)
	}
}

// Deleting a group ends its members, forgets its state (a new group of
// the same name starts afresh) and survives a restart; a stream with
// groups cannot be deleted.
func TestGroupDelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		e.group(GroupConfig{Name: "g2", Stream: "s"})
		m := join(t, e.b, "s", "g", 0)
		for i := range 3 {
			e.pub("s", num(i))
		}
		ds := grpRecvN(t, m, 3)
		ds[0].Ack()
		if err := e.b.DeleteStream("s"); !errors.Is(err, ErrStreamHasGroups) {
			t.Fatalf("delete stream with groups: %v", err)
		}
		if err := e.b.DeleteGroup("s", "g"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-m.Done():
		default:
			t.Fatal("member not ended")
		}
		if _, err := e.b.Join("s", "g", 0); !errors.Is(err, ErrGroupNotFound) {
			t.Fatalf("join deleted group: %v", err)
		}
		e.restart()
		if _, err := e.b.GroupInfo("s", "g"); !errors.Is(err, ErrGroupNotFound) {
			t.Fatalf("deleted group back after restart: %v", err)
		}
		// g2 untouched
		if in := grpInfo(t, e.b, "s", "g2"); in.Lag != 3 {
			t.Fatalf("g2 lag %d", in.Lag)
		}
		e.group(GroupConfig{Name: "g", Stream: "s"})
		m = join(t, e.b, "s", "g", 0)
		got := grpQueued(m)
		if p := grpPayloads(got); !grpEqual(p, grpNums(0, 3)) {
			t.Fatalf("recreated group got %v, want all from the start", p)
		}
		for _, d := range got {
			if d.Deliveries != 1 {
				t.Errorf("%q: Deliveries %d in a new group", d.Payload, d.Deliveries)
			}
		}
	})
}

// Start positions: earliest, latest, offset (the same in every
// partition, clamped to the log), time.
func TestGroupStartPositions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		for i := range 5 {
			e.pub("s", num(i))
		}
		time.Sleep(time.Minute)
		mid := time.Now()
		for i := 5; i < 8; i++ {
			e.pub("s", num(i))
		}
		cases := []struct {
			name  string
			start Start
			want  []string
		}{
			{"default", Start{}, grpNums(0, 10)},
			{"earliest", Start{Kind: StartEarliest}, grpNums(0, 10)},
			{"latest", Start{Kind: StartLatest}, grpNums(8, 10)},
			{"offset", Start{Kind: StartOffset, Offset: 3}, grpNums(3, 10)},
			{"offset-past-end", Start{Kind: StartOffset, Offset: 100}, grpNums(8, 10)},
			{"offset-negative", Start{Kind: StartOffset, Offset: -5}, grpNums(0, 10)},
			{"time", Start{Kind: StartTime, Time: mid}, grpNums(5, 10)},
			{"time-before", Start{Kind: StartTime, Time: mid.Add(-time.Hour)}, grpNums(0, 10)},
			{"time-future", Start{Kind: StartTime, Time: mid.Add(time.Hour)}, grpNums(8, 10)},
		}
		for _, c := range cases {
			e.group(GroupConfig{Name: c.name, Stream: "s", Start: c.start})
		}
		e.pub("s", num(8))
		e.pub("s", num(9))
		for _, c := range cases {
			m := join(t, e.b, "s", c.name, 0)
			got := grpPayloads(grpQueued(m))
			if !grpEqual(got, c.want) {
				t.Errorf("start %s: got %v, want %v", c.name, got, c.want)
			}
		}
		// The position is fixed at creation: a restart does not move it.
		e.restart()
		for _, c := range cases {
			if in := grpInfo(t, e.b, "s", c.name); in.Lag != int64(len(c.want)) {
				t.Errorf("start %s: lag %d after restart, want %d", c.name, in.Lag, len(c.want))
			}
		}
	})
}

// Start offset in a partitioned stream applies to every partition.
func TestGroupStartOffsetPartitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s", Partitions: 2})
		var want int
		counts := [2]int{}
		for i := range 40 {
			a := e.pub("s", num(i), withKey(num(i)))
			if counts[a.Partition] >= 2 {
				want++
			}
			counts[a.Partition]++
		}
		e.group(GroupConfig{Name: "g", Stream: "s", Start: Start{Kind: StartOffset, Offset: 2}})
		m := join(t, e.b, "s", "g", 0)
		got := grpQueued(m)
		if len(got) != want {
			t.Fatalf("got %d, want %d", len(got), want)
		}
		for _, d := range got {
			if d.Offset < 2 {
				t.Errorf("offset %d delivered", d.Offset)
			}
		}
	})
}

// A subject filter: the group gets only the matching messages; the others
// count as settled (no lag), also after a restart.
func TestGroupSubjectFilter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "ev", Subjects: []string{"ev.>"}, Partitions: 2})
		e.group(GroupConfig{Name: "g", Stream: "ev", Filter: "ev.*.created"})
		e.group(GroupConfig{Name: "all", Stream: "ev"})
		subjects := []string{"ev.a.created", "ev.a.deleted", "ev.b.created", "ev.b.c.created", "ev.created"}
		for i := range 20 {
			e.pub(subjects[i%len(subjects)], num(i))
		}
		m := join(t, e.b, "ev", "g", 0)
		got := grpQueued(m)
		if len(got) != 8 {
			t.Fatalf("got %d, want 8", len(got))
		}
		for _, d := range got {
			if d.Subject != "ev.a.created" && d.Subject != "ev.b.created" {
				t.Errorf("delivered %s", d.Subject)
			}
		}
		grpAckAll(t, got)
		if in := grpInfo(t, e.b, "ev", "g"); in.Lag != 0 {
			t.Errorf("lag %d after acking every match", in.Lag)
		}
		if in := grpInfo(t, e.b, "ev", "all"); in.Lag != 20 {
			t.Errorf("unfiltered lag %d", in.Lag)
		}
		e.restart()
		m = join(t, e.b, "ev", "g", 0)
		if x := grpQueued(m); len(x) != 0 {
			t.Fatalf("after restart: %v", grpPayloads(x))
		}
		if in := grpInfo(t, e.b, "ev", "g"); in.Lag != 0 {
			t.Errorf("lag %d after restart", in.Lag)
		}
		e.pub("ev.z.created", "new")
		e.pub("ev.z.other", "skip")
		d := next(t, m)
		if string(d.Payload) != "new" {
			t.Fatalf("got %q", d.Payload)
		}
		d.Ack()
		none(t, m, time.Minute)
	})
}

// A delivery of a deleted group must not settle: its Ack would write
// state of the deleted group into the metadata store, after DeleteGroup
// removed it, and a new group of the same name would load it at the next
// restart and skip that message though it never saw it acked.
func TestGroupDeleteThenStaleAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		m := join(t, e.b, "s", "g", 0)
		for i := range 3 {
			e.pub("s", num(i))
		}
		ds := grpRecvN(t, m, 3)
		if err := e.b.DeleteGroup("s", "g"); err != nil {
			t.Fatal(err)
		}
		if err := ds[1].Ack(); err == nil {
			t.Errorf("ack of a delivery of a deleted group returned nil")
		}
		e.group(GroupConfig{Name: "g", Stream: "s"})
		e.restart()
		m = join(t, e.b, "s", "g", 0)
		got := grpPayloads(grpQueued(m))
		if !grpEqual(got, grpNums(0, 3)) {
			t.Fatalf("new group g after a restart got %v, want %v: the stale ack of the deleted group "+
				"was written to the store and loaded by the new one", got, grpNums(0, 3))
		}
	})
}

// Likewise a delivery of a closed broker: settling it must fail (the
// group is stopped) rather than return nil and write group state into a
// metadata store that Close already flushed (and that the next broker on
// the same store has loaded).
func TestGroupSettleAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s"})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "a")
		e.pub("s", "b")
		ds := grpRecvN(t, m, 2)
		e.restart()
		for name, f := range map[string]func() error{
			"ack":  ds[0].Ack,
			"nack": func() error { return ds[1].Nack(0) },
		} {
			if err := f(); err == nil {
				t.Errorf("%s of a delivery of a closed broker returned nil", name)
			}
		}
	})
}
