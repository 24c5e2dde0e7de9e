package server

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// These tests drive each broker behaviour through the public server
// package, on disk, on synctest's fake clock. The broker package has the
// finer-grained tests of the same behaviours.

var bg = context.Background()

// fake runs body in a bubble with a started server on dir.
func fake(t *testing.T, body func(t *testing.T, s *Server, dir string)) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := start(t, dir)
		defer func() { s.Shutdown(bg) }()
		body(t, s, dir)
	})
}

// must(t)(f()) fails the test if f returns an error.
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func pub(t *testing.T, s *Server, m *Message) PubAck {
	t.Helper()
	return must[PubAck](t)(s.Publish(bg, m, Expect{}))
}

func recvD(t *testing.T, m *Member) *Delivery {
	t.Helper()
	select {
	case d := <-m.C():
		return d
	case <-time.After(time.Hour):
		t.Fatal("no delivery within an hour")
	}
	return nil
}

func TestServerRedeliveryBackoff(t *testing.T) {
	fake(t, func(t *testing.T, s *Server, _ string) {
		must[StreamInfo](t)(s.CreateStream(StreamConfig{Name: "s"}))
		must[GroupInfo](t)(s.CreateGroup(GroupConfig{Name: "g", Stream: "s", AckWait: 10 * time.Second,
			Backoff: []time.Duration{time.Second, 5 * time.Second}}))
		m := must[*Member](t)(s.Join("s", "g", 1))
		pub(t, s, &Message{Subject: "s", Payload: []byte("x")})
		t0 := time.Now()
		recvD(t, m) // delivery 1 times out at 10s, then 1s of backoff
		if d := recvD(t, m); d.Deliveries != 2 || time.Since(t0) != 11*time.Second {
			t.Fatalf("second delivery %d at %v", d.Deliveries, time.Since(t0))
		}
		if d := recvD(t, m); d.Deliveries != 3 || time.Since(t0) != 26*time.Second {
			t.Fatalf("third delivery %d at %v", d.Deliveries, time.Since(t0))
		} else {
			d.Ack()
		}
	})
}

func TestServerDeadLettersEveryReason(t *testing.T) {
	fake(t, func(t *testing.T, s *Server, _ string) {
		must[StreamInfo](t)(s.CreateStream(StreamConfig{Name: "jobs", Subjects: []string{"jobs.>"}}))
		must[StreamInfo](t)(s.CreateStream(StreamConfig{Name: "dlq", Subjects: []string{"dlq.>"}}))
		must[GroupInfo](t)(s.CreateGroup(GroupConfig{Name: "w", Stream: "jobs", AckWait: time.Second, MaxDeliveries: 2,
			DeadLetter: "dlq.jobs"}))
		letters := must[*Subscription](t)(s.Subscribe("dlq.>", Start{Kind: StartEarliest}, 0))
		defer letters.Close()
		m := must[*Member](t)(s.Join("jobs", "w", 10))
		for _, p := range []string{"term", "reject", "max", "ttl"} {
			msg := &Message{Subject: "jobs." + p, Key: []byte(p), Payload: []byte(p), Headers: []Header{{Key: "app", Value: []byte(p)}}}
			if p == "ttl" {
				msg.TTL = 1500 * time.Millisecond // expires during its second delivery
			}
			pub(t, s, msg)
		}
		want := map[string]string{"term": "terminated", "reject": "rejected", "max": "max-deliveries", "ttl": "expired"}
		got := map[string]bool{}
		for len(got) < 4 {
			var l *Message
			select {
			case d := <-m.C(): // the consumer reads everything
				switch string(d.Payload) {
				case "term":
					d.Term("bad input")
				case "reject":
					d.Reject("")
				} // max and ttl: never settled
				continue
			case l = <-letters.Messages():
			case <-time.After(time.Hour):
				t.Fatalf("letters so far %v", got)
			}
			p := string(l.Payload)
			h := func(k string) string { v, _ := l.Header(k); return v }
			if h("courier-dlq-reason") != want[p] || h("courier-dlq-stream") != "jobs" || h("courier-dlq-subject") != "jobs."+p ||
				h("courier-dlq-partition") != "0" || h("courier-dlq-offset") == "" || h("courier-dlq-group") != "w" ||
				h("courier-dlq-time") == "" || h("app") != p || string(l.Key) != p {
				t.Fatalf("letter %q: %+v", p, l.Headers)
			}
			if p == "term" && h("courier-dlq-error") != "bad input" {
				t.Fatalf("error text %q", h("courier-dlq-error"))
			}
			if p == "max" && h("courier-dlq-deliveries") != "2" {
				t.Fatalf("deliveries %q", h("courier-dlq-deliveries"))
			}
			got[p] = true
		}
	})
}

func TestServerDelayedSurvivesRestart(t *testing.T) {
	fake(t, func(t *testing.T, s *Server, dir string) {
		must[StreamInfo](t)(s.CreateStream(StreamConfig{Name: "s"}))
		must[GroupInfo](t)(s.CreateGroup(GroupConfig{Name: "g", Stream: "s"}))
		due := time.Now().Add(time.Hour)
		pub(t, s, &Message{Subject: "s", Payload: []byte("later"), DeliverAt: due})
		must[*Member](t)(s.Join("s", "g", 1))
		time.Sleep(30 * time.Minute)
		s.Shutdown(bg)
		s2 := start(t, dir)
		defer s2.Shutdown(bg)
		m := must[*Member](t)(s2.Join("s", "g", 1))
		d := recvD(t, m)
		if time.Now().Before(due) || time.Since(due) > time.Second {
			t.Fatalf("delivered at %v, due %v", time.Now(), due)
		}
		d.Ack()
	})
}

func TestServerSharedKeyedExclusive(t *testing.T) {
	fake(t, func(t *testing.T, s *Server, _ string) {
		must[StreamInfo](t)(s.CreateStream(StreamConfig{Name: "s", Partitions: 3}))
		must[GroupInfo](t)(s.CreateGroup(GroupConfig{Name: "sh", Stream: "s", MaxInFlight: 8}))
		must[GroupInfo](t)(s.CreateGroup(GroupConfig{Name: "ky", Stream: "s", Mode: Keyed}))
		must[GroupInfo](t)(s.CreateGroup(GroupConfig{Name: "ex", Stream: "s", Mode: Exclusive, AckWait: time.Minute}))
		var sh [4]*Member
		for i := range sh {
			sh[i] = must[*Member](t)(s.Join("s", "sh", 0))
		}
		ky := []*Member{must[*Member](t)(s.Join("s", "ky", 0)), must[*Member](t)(s.Join("s", "ky", 0)), must[*Member](t)(s.Join("s", "ky", 0))}
		ex := []*Member{must[*Member](t)(s.Join("s", "ex", 0)), must[*Member](t)(s.Join("s", "ex", 0))}
		const n = 400
		for i := range n {
			pub(t, s, &Message{Subject: "s", Key: []byte(fmt.Sprint(i % 20)), Payload: []byte(fmt.Sprint(i))})
		}
		// shared: each message to exactly one member, all four busy.
		seen, per := map[string]bool{}, [4]int{}
		for len(seen) < n {
			for i, m := range sh {
				select {
				case d := <-m.C():
					if seen[string(d.Payload)] {
						t.Fatalf("shared: %s delivered twice", d.Payload)
					}
					seen[string(d.Payload)], per[i] = true, per[i]+1
					d.Ack()
				default:
				}
			}
			synctest.Wait()
		}
		for i, c := range per {
			if c < n/10 {
				t.Fatalf("shared member %d got %d of %d", i, c, n)
			}
		}
		// keyed: per key, values arrive in publish order.
		last := map[string]int{}
		for got := 0; got < n; {
			for _, m := range ky {
				select {
				case d := <-m.C():
					var v int
					fmt.Sscan(string(d.Payload), &v)
					if p, ok := last[string(d.Key)]; ok && v < p {
						t.Fatalf("keyed: key %s got %d after %d", d.Key, v, p)
					}
					last[string(d.Key)] = v
					d.Ack()
					got++
				default:
				}
			}
			synctest.Wait()
		}
		// exclusive: the standby gets nothing until the active one leaves.
		d := recvD(t, ex[0])
		synctest.Wait()
		select {
		case x := <-ex[1].C():
			t.Fatalf("standby got %q", x.Payload)
		default:
		}
		ex[0].Leave()
		for { // the standby takes over, with what the active one held
			x := recvD(t, ex[1])
			if string(x.Payload) == string(d.Payload) {
				if x.Deliveries != 2 {
					t.Fatalf("after failover %q has Deliveries %d", x.Payload, x.Deliveries)
				}
				break
			}
			x.Ack()
		}
	})
}

func TestServerDedupExpectationsLimits(t *testing.T) {
	fake(t, func(t *testing.T, s *Server, _ string) {
		must[StreamInfo](t)(s.CreateStream(StreamConfig{Name: "acct", Subjects: []string{"acct.*"}, MaxMsgSize: 64}))
		a := pub(t, s, &Message{Subject: "acct.1", ID: "op-1"})
		if b := pub(t, s, &Message{Subject: "acct.1", ID: "op-1"}); !b.Duplicate || b.Offset != a.Offset {
			t.Fatalf("dedup: %+v %+v", a, b)
		}
		stale := int64(-1)
		_, err := s.Publish(bg, &Message{Subject: "acct.1"}, Expect{LastSubjectOffset: &stale})
		var wl *WrongLastOffsetError
		if !errors.As(err, &wl) || wl.Actual != 0 {
			t.Fatalf("expectation: %v", err)
		}
		for _, c := range []struct {
			m    *Message
			want error
		}{
			{&Message{Subject: "acct.1", Payload: make([]byte, 65)}, ErrTooLarge},
			{&Message{Subject: "acct..1"}, ErrInvalid},
			{&Message{Subject: "acct.1", Headers: make([]Header, 1000)}, ErrTooManyHeaders},
		} {
			if _, err := s.Publish(bg, c.m, Expect{}); !errors.Is(err, c.want) {
				t.Fatalf("%v: %v, want %v", c.m.Subject, err, c.want)
			}
		}
		if _, err := s.Join("acct", "nope", 0); !errors.Is(err, ErrGroupNotFound) {
			t.Fatal(err)
		}
		if _, err := s.StreamInfo("nope"); !errors.Is(err, ErrStreamNotFound) {
			t.Fatal(err)
		}
	})
}

func TestServerRequestReply(t *testing.T) {
	fake(t, func(t *testing.T, s *Server, _ string) {
		svc := must[*Subscription](t)(s.Subscribe("svc.time", Start{}, 0))
		defer svc.Close()
		go func() {
			m := <-svc.Messages()
			s.Publish(bg, &Message{Subject: m.ReplyTo, Payload: []byte("noon")}, Expect{})
		}()
		ctx, cancel := context.WithTimeout(bg, time.Second)
		defer cancel()
		if r, err := s.Request(ctx, &Message{Subject: "svc.time"}); err != nil || string(r.Payload) != "noon" {
			t.Fatalf("%v %v", r, err)
		}
		mute := must[*Subscription](t)(s.Subscribe("svc.mute", Start{}, 0))
		defer mute.Close()
		if _, err := s.Request(ctx, &Message{Subject: "svc.mute"}); !errors.Is(err, ErrTimeout) {
			t.Fatalf("timeout: %v", err)
		}
	})
}

func TestServerRetentionAndCompactionInBackground(t *testing.T) {
	fake(t, func(t *testing.T, s *Server, _ string) {
		must[StreamInfo](t)(s.CreateStream(StreamConfig{Name: "r", MaxMsgs: 100, SegmentBytes: 4096}))
		must[StreamInfo](t)(s.CreateStream(StreamConfig{Name: "kv", Compact: true, SegmentBytes: 64 << 10}))
		for i := range 1000 {
			pub(t, s, &Message{Subject: "r", Payload: make([]byte, 100)})
			pub(t, s, &Message{Subject: "kv", Key: []byte(fmt.Sprint(i % 10)), Payload: make([]byte, 1200)})
		}
		time.Sleep(2 * time.Minute) // the janitors run every 30s
		r := must[StreamInfo](t)(s.StreamInfo("r")).Partitions[0]
		if r.Messages < 100 || r.Messages > 150 || r.StartOffset == 0 {
			t.Fatalf("retention: %+v", r)
		}
		kv := must[StreamInfo](t)(s.StreamInfo("kv")).Partitions[0]
		if kv.Messages >= 1000 || kv.HighWatermark != 1000 {
			t.Fatalf("compaction: %+v", kv)
		}
	})
}
