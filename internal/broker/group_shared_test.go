package broker

import (
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// With no failures each message goes to exactly one member, once, and 4
// members share the load fairly.
func TestGroupSharedExactlyOnceAndFair(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s", Subjects: []string{"s.>"}, Partitions: 3})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxInFlight: 16})
		const n, members = 2000, 4
		var (
			mu     sync.Mutex
			seen   = map[string]int{}
			counts [members]int
			bad    []string
			done   = make(chan struct{})
		)
		var wg sync.WaitGroup
		for i := range members {
			m := join(t, e.b, "s", "g", 0)
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(i), 1))
				for {
					select {
					case d := <-m.C():
						if r.IntN(4) == 0 {
							time.Sleep(time.Millisecond) // fake time: lets others run
						}
						mu.Lock()
						seen[string(d.Payload)]++
						counts[i]++
						if d.Deliveries != 1 {
							bad = append(bad, string(d.Payload))
						}
						if len(seen) == n {
							select {
							case <-done:
							default:
								close(done)
							}
						}
						mu.Unlock()
						if err := d.Ack(); err != nil {
							t.Errorf("ack: %v", err)
						}
					case <-done:
						return
					}
				}
			})
		}
		go func() {
			for i := range n {
				e.pub([]string{"s.a", "s.b", "s.c", "s.d"}[i%4], num(i))
			}
		}()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Errorf("timed out with %d of %d", len(seen), n)
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for p, c := range seen {
			if c != 1 {
				t.Errorf("%s delivered %d times", p, c)
			}
		}
		if len(bad) > 0 {
			t.Errorf("redelivered without a failure: %v", bad[:min(len(bad), 10)])
		}
		for i, c := range counts {
			if c < n/10 {
				t.Errorf("member %d got %d of %d: not a fair share (counts %v)", i, c, n, counts)
			}
		}
		in := grpInfo(t, e.b, "s", "g")
		if in.Delivered != n || in.Redelivered != 0 || in.Acked != n || in.Lag != 0 || in.InFlight != 0 {
			t.Fatalf("info: %+v", in)
		}
	})
}

// A member never holds more than its MaxInFlight unsettled deliveries; a
// settle lets exactly one more in. Join's bound is capped at the group's.
func TestGroupSharedMaxInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxInFlight: 5})
		a := join(t, e.b, "s", "g", 3)
		b := join(t, e.b, "s", "g", 100) // capped at 5
		for i := range 20 {
			e.pub("s", num(i))
		}
		ga, gb := grpQueued(a), grpQueued(b)
		if len(ga) != 3 || len(gb) != 5 {
			t.Fatalf("a holds %d (max 3), b holds %d (max 5)", len(ga), len(gb))
		}
		if in := grpInfo(t, e.b, "s", "g"); in.InFlight != 8 {
			t.Fatalf("InFlight %d", in.InFlight)
		}
		ga[0].Ack()
		if x := grpQueued(a); len(x) != 1 {
			t.Fatalf("after one ack a got %d more", len(x))
		} else {
			ga = append(ga[1:], x...)
		}
		if x := grpQueued(b); len(x) != 0 {
			t.Fatalf("b got %d more while full", len(x))
		}
		gb[0].Nack(0) // redelivered: to a member with room (none)
		if x := append(grpQueued(a), grpQueued(b)...); len(x) != 1 {
			t.Fatalf("after a nack: %d deliveries", len(x))
		}
	})
}

// Under concurrent load with random settle delays a member never has more
// than its MaxInFlight unsettled deliveries.
func TestGroupSharedMaxInFlightUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", MaxInFlight: 8, AckWait: time.Hour})
		const n = 1000
		for i := range n {
			e.pub("s", num(i))
		}
		var (
			mu   sync.Mutex
			acks int
			done = make(chan struct{})
		)
		var wg sync.WaitGroup
		for i, max := range []int{1, 3, 8} {
			m := join(t, e.b, "s", "g", max)
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(i), 2))
				var held []*Delivery
				for {
					select {
					case d := <-m.C():
						held = append(held, d)
						if len(held) > max {
							t.Errorf("member %d holds %d unsettled deliveries, max %d", i, len(held), max)
						}
						// settle a random number, in random order
						for k := r.IntN(len(held) + 1); k > 0; k-- {
							j := r.IntN(len(held))
							if err := held[j].Ack(); err != nil {
								t.Errorf("ack: %v", err)
							}
							held = append(held[:j], held[j+1:]...)
							mu.Lock()
							acks++
							if acks == n {
								close(done)
							}
							mu.Unlock()
						}
					case <-time.After(time.Second):
						for _, d := range held { // idle: settle what is held
							d.Ack()
							mu.Lock()
							acks++
							if acks == n {
								close(done)
							}
							mu.Unlock()
						}
						held = nil
					case <-done:
						return
					}
				}
			})
		}
		select {
		case <-done:
		case <-time.After(10 * time.Minute):
			t.Errorf("timed out at %d acks", acks)
		}
		wg.Wait()
		if in := grpInfo(t, e.b, "s", "g"); in.Acked != n || in.Redelivered != 0 || in.Lag != 0 {
			t.Fatalf("info %+v", in)
		}
	})
}

// Members leaving with messages in flight: those go to the others at
// once; those it had received count as delivered once more, those still
// queued for it do not; the leaver's deliveries are stale.
func TestGroupSharedLeaveRedeliversAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Hour})
		a := join(t, e.b, "s", "g", 0)
		for i := range 5 {
			e.pub("s", num(i))
		}
		synctest.Wait()           // all five are a's before b joins
		held := grpRecvN(t, a, 3) // two more wait unread in a's channel
		b := join(t, e.b, "s", "g", 0)
		if x := grpQueued(b); len(x) != 0 {
			t.Fatalf("b got %d before a left", len(x))
		}
		t0 := time.Now()
		a.Leave()
		select {
		case <-a.Done():
		default:
			t.Fatal("a not done after Leave")
		}
		if err := a.Err(); err != ErrMemberLeft {
			t.Errorf("a.Err() = %v", err)
		}
		got := grpQueued(b)
		if time.Since(t0) != 0 || !grpEqual(grpPayloads(got), grpNums(0, 5)) {
			t.Fatalf("b got %v after %v, want all 5 at once, in order", grpPayloads(got), time.Since(t0))
		}
		for i, d := range got { // a received 3; the 2 it never read do not count
			if want := 2 - i/3; d.Deliveries != want {
				t.Errorf("%q: Deliveries %d, want %d", d.Payload, d.Deliveries, want)
			}
		}
		for _, d := range held {
			if err := d.Ack(); !grpIsSettled(err) {
				t.Errorf("ack by the member that left: %v", err)
			}
		}
		grpAckAll(t, got)
		if in := grpInfo(t, e.b, "s", "g"); in.Members != 1 || in.Redelivered != 3 || in.Lag != 0 {
			t.Fatalf("info %+v", in)
		}
		a.Leave() // twice is harmless
	})
}

// The last member leaving with messages in flight: the next member to
// join gets them at once.
func TestGroupSharedLastMemberLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", AckWait: time.Hour})
		a := join(t, e.b, "s", "g", 0)
		e.pub("s", "x")
		next(t, a)
		a.Leave()
		if in := grpInfo(t, e.b, "s", "g"); in.Members != 0 || in.InFlight != 0 || in.Lag != 1 {
			t.Fatalf("info %+v", in)
		}
		time.Sleep(time.Minute)
		b := join(t, e.b, "s", "g", 0)
		got := grpQueued(b)
		if len(got) != 1 || got[0].Deliveries != 2 {
			t.Fatalf("got %d", len(got))
		}
	})
}
