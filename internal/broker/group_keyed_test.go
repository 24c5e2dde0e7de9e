package broker

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// A key has one message out at a time: the next one of the key comes
// only when the one out is settled, even if the member has room; other
// keys are not held up; a nacked message comes again before the next one
// of its key.
func TestGroupKeyedOneAtATimePerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Keyed, AckWait: time.Minute})
		m := join(t, e.b, "s", "g", 0)
		e.pub("s", "k1", withKey("k"))
		e.pub("s", "k2", withKey("k"))
		e.pub("s", "j1", withKey("j"))
		e.pub("s", "k3", withKey("k"))
		e.pub("s", "n1") // no key: not held
		got := grpQueued(m)
		if p := grpPayloads(got); !grpEqual(p, []string{"k1", "j1", "n1"}) {
			t.Fatalf("first round: %v", p)
		}
		got[1].Ack()
		got[2].Ack()
		got[0].Nack(0)
		d := next(t, m)
		if string(d.Payload) != "k1" || d.Deliveries != 2 {
			t.Fatalf("after nack: %q %d", d.Payload, d.Deliveries)
		}
		if x := grpQueued(m); len(x) != 0 {
			t.Fatalf("k2 delivered while k1 is out: %v", grpPayloads(x))
		}
		// the ack wait passes: k1 again, still before k2
		d = grpRecvWithin(t, m, 2*time.Minute)
		if string(d.Payload) != "k1" || d.Deliveries != 3 {
			t.Fatalf("after ack wait: %q %d", d.Payload, d.Deliveries)
		}
		d.Ack()
		d = next(t, m)
		if string(d.Payload) != "k2" {
			t.Fatalf("got %q, want k2", d.Payload)
		}
		d.Term("")
		d = next(t, m)
		if string(d.Payload) != "k3" {
			t.Fatalf("got %q, want k3", d.Payload)
		}
	})
}

// While membership is stable, each key sticks to one member.
func TestGroupKeyedKeysStick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s", Partitions: 4})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Keyed, MaxInFlight: 4})
		const n, keys = 1200, 60
		var (
			mu    sync.Mutex
			owner = map[string]int{}
			count = map[int]int{}
			acks  int
			done  = make(chan struct{})
		)
		var wg sync.WaitGroup
		for i := range 3 {
			m := join(t, e.b, "s", "g", 0)
			wg.Go(func() {
				for {
					select {
					case d := <-m.C():
						time.Sleep(time.Millisecond)
						mu.Lock()
						k := string(d.Key)
						if o, ok := owner[k]; ok && o != i {
							t.Errorf("key %s went to member %d and member %d", k, o, i)
						}
						owner[k] = i
						count[i]++
						mu.Unlock()
						d.Ack()
						mu.Lock()
						if acks++; acks == n {
							close(done)
						}
						mu.Unlock()
					case <-done:
						return
					}
				}
			})
		}
		for i := range n {
			e.pub("s", num(i), withKey(fmt.Sprintf("key-%d", i%keys)))
		}
		select {
		case <-done:
		case <-time.After(time.Hour):
			t.Errorf("timed out at %d", acks)
		}
		wg.Wait()
		for i := range 3 {
			if count[i] == 0 {
				t.Errorf("member %d got no key (counts %v)", i, count)
			}
		}
	})
}

// When a member leaves, its keys move: the message of the key it had out
// goes to the new owner at once, then the rest of the key in order.
func TestGroupKeyedLeaveMovesKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.stream(StreamConfig{Name: "s"})
		e.group(GroupConfig{Name: "g", Stream: "s", Mode: Keyed, AckWait: time.Hour})
		a := join(t, e.b, "s", "g", 0)
		b := join(t, e.b, "s", "g", 0)
		var ka string // a key a owns
		for i := 0; ka == ""; i++ {
			k := "k" + strconv.Itoa(i)
			e.pub("s", k+"-probe", withKey(k))
			if x := grpQueued(a); len(x) == 1 {
				ka = k
				x[0].Ack()
			} else {
				grpAckAll(t, grpQueued(b))
			}
		}
		for i := range 3 {
			e.pub("s", fmt.Sprintf("%s-%d", ka, i), withKey(ka))
		}
		d := next(t, a)
		if string(d.Payload) != ka+"-0" {
			t.Fatalf("a got %q", d.Payload)
		}
		a.Leave()
		got := grpQueued(b)
		if len(got) != 1 || string(got[0].Payload) != ka+"-0" || got[0].Deliveries != 2 {
			t.Fatalf("b got %v after a left, want %s-0 again", grpPayloads(got), ka)
		}
		got[0].Ack()
		for i := 1; i < 3; i++ {
			d := next(t, b)
			if want := fmt.Sprintf("%s-%d", ka, i); string(d.Payload) != want {
				t.Fatalf("got %q, want %s", d.Payload, want)
			}
			d.Ack()
		}
	})
}

// Per-key order holds with 3 members processing concurrently while members
// leave and join mid-stream, over thousands of messages and hundreds of
// keys: for every key, the values are first processed (acked) in publish
// order, and no value is delivered while an earlier value of its key is
// still unacked.
func TestGroupKeyedOrderWithChurn(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { keyedChurn(t, seed, false) })
		})
	}
}

// The same with a short ack wait that slow members sometimes let pass, so
// that messages are also taken back by the timer.
func TestGroupKeyedOrderWithChurnAndTimeouts(t *testing.T) {
	for seed := range uint64(2) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { keyedChurn(t, seed, true) })
		})
	}
}

func keyedChurn(t *testing.T, seed uint64, slow bool) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "s", Partitions: 4})
	ackWait := time.Hour
	if slow {
		ackWait = 100 * time.Millisecond
	}
	e.group(GroupConfig{Name: "g", Stream: "s", Mode: Keyed, MaxInFlight: 16, AckWait: ackWait})
	const n, keys = 3000, 500
	var (
		mu        sync.Mutex
		acked     = map[int]bool{}     // values acked at least once
		firstSeq  = map[string][]int{} // per key, values in the order first acked
		nextOf    = map[string]int{}   // per key, index in the key's sequence expected next
		seqOf     = map[string][]int{} // per key, its values in publish order
		errs      []string
		done      = make(chan struct{})
		leaves    int
		joins     int
		delivered int
	)
	for i := range n {
		k := fmt.Sprintf("key-%03d", (i*7+i/13)%keys)
		seqOf[k] = append(seqOf[k], i)
	}
	fail := func(f string, a ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf(f, a...))
		}
	}
	rnd := rand.New(rand.NewPCG(seed, 99))
	var wg sync.WaitGroup
	var run func(id int)
	run = func(id int) {
		mu.Lock()
		max := 1 + rnd.IntN(8)
		mu.Unlock()
		m := join(t, e.b, "s", "g", max)
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(id)))
			var held []*Delivery
			settle := func() {
				for len(held) > 0 {
					j := r.IntN(len(held))
					d := held[j]
					held = append(held[:j], held[j+1:]...)
					if slow && r.IntN(30) == 0 {
						time.Sleep(150 * time.Millisecond) // past the ack wait
					}
					if r.IntN(10) == 0 { // fail it: it comes again before the rest of its key
						if err := d.Nack(0); err != nil && !grpIsSettled(err) {
							mu.Lock()
							fail("nack: %v", err)
							mu.Unlock()
						}
						continue
					}
					mu.Lock()
					err := d.Ack()
					v, _ := strconv.Atoi(strings.TrimPrefix(string(d.Payload), "m"))
					k := string(d.Key)
					if err == nil && !acked[v] {
						acked[v] = true
						firstSeq[k] = append(firstSeq[k], v)
						if want := seqOf[k][nextOf[k]]; v != want {
							fail("key %s: %d acked first-time while %d is the next in publish order", k, v, want)
						}
						nextOf[k]++
						if len(acked) == n {
							close(done)
						}
					}
					mu.Unlock()
					if r.IntN(3) == 0 {
						break
					}
				}
			}
			for {
				select {
				case d := <-m.C():
					mu.Lock()
					delivered++
					v, _ := strconv.Atoi(strings.TrimPrefix(string(d.Payload), "m"))
					k := string(d.Key)
					for _, w := range seqOf[k] {
						if w >= v {
							break
						}
						if !acked[w] {
							fail("key %s: %d delivered (Deliveries %d) while the earlier %d is unacked", k, v, d.Deliveries, w)
						}
					}
					leave := r.IntN(80) == 0 && leaves < 40
					if leave {
						leaves++
					}
					mu.Unlock()
					held = append(held, d)
					if r.IntN(5) == 0 {
						time.Sleep(time.Duration(r.IntN(3)) * time.Millisecond)
					}
					if leave {
						// leave with some deliveries settled, some not
						if r.IntN(2) == 0 {
							settle()
						}
						m.Leave()
						for _, x := range held {
							if err := x.Ack(); !grpIsSettled(err) {
								mu.Lock()
								fail("ack after leaving: %v", err)
								mu.Unlock()
							}
						}
						mu.Lock()
						joins++
						id := 100 + joins
						mu.Unlock()
						time.Sleep(time.Duration(r.IntN(5)) * time.Millisecond)
						run(id)
						return
					}
					if r.IntN(2) == 0 {
						settle()
					}
				case <-time.After(10 * time.Millisecond):
					settle()
				case <-done:
					return
				}
			}
		})
	}
	for i := range 3 {
		run(i)
	}
	go func() {
		for i := range n {
			k := fmt.Sprintf("key-%03d", (i*7+i/13)%keys)
			e.pub("s", num(i), withKey(k))
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Hour):
		mu.Lock()
		t.Errorf("timed out: %d of %d acked", len(acked), n)
		mu.Unlock()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, s := range errs {
		t.Error(s)
	}
	for k, want := range seqOf {
		if got := firstSeq[k]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("key %s: first-time acks %v, want %v", k, got, want)
			break
		}
	}
	if in := grpInfo(t, e.b, "s", "g"); in.Lag != 0 {
		t.Errorf("lag %d at the end", in.Lag)
	}
	t.Logf("%d deliveries, %d leaves", delivered, leaves)
}
