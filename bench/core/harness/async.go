package harness

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// AsyncPublisher is a pipelining client: Publish hands a message over and
// returns at once (it may block for back-pressure), Flush returns once
// every message this publisher handed over is acknowledged. Publish owns
// p: the harness never touches it again.
type AsyncPublisher interface {
	Publish(pub int, p []byte) error
	Flush(pub int) error
}

// AsyncEndToEnd runs Publishers pipelining publishers over n messages (a
// share each), each stamped when handed over, and waits until rcv has got
// n messages (at most timeout). Elapsed runs from the first publish to the
// last receipt (or the last acknowledgement, if later); Lat is end to end.
func (l Load) AsyncEndToEnd(n int, ap AsyncPublisher, rcv *Receiver, timeout time.Duration) (*Run, error) {
	w := rcv.expect(n)
	defer rcv.cur.Store(nil)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, l.Publishers)
	for pub := range l.Publishers {
		share := n*(pub+1)/l.Publishers - n*pub/l.Publishers
		wg.Go(func() {
			src := Payload(l.Size)
			for range share {
				p := append([]byte(nil), src...)
				Stamp(p)
				if err := ap.Publish(pub, p); err != nil {
					errs <- fmt.Errorf("publisher %d: %w", pub, err)
					return
				}
			}
			if err := ap.Flush(pub); err != nil {
				errs <- fmt.Errorf("publisher %d: flush: %w", pub, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	select {
	case <-w.done:
	case <-time.After(timeout):
		return nil, fmt.Errorf("received %d of %d messages within %v", w.got.Load(), n, timeout)
	}
	return &Run{Msgs: int64(n), Elapsed: time.Since(start), Lat: w.lat, Extra: rcv.extra.Swap(0)}, nil
}

// RequestFunc sends p as a request and returns once the reply is back.
type RequestFunc func(p []byte) error

// Pace is how PingPong waits between requests.
type Pace int

const (
	// PaceSpin keeps the rate exactly: it yields the processor in a loop
	// for the last part of each wait (see waitUntil), which keeps a core
	// busy, and counts latency from the scheduled time when a request
	// starts late, so that a stall is not hidden.
	PaceSpin Pace = iota
	// PaceSleep sleeps between requests, so the process idles as an
	// application sending 1,000 requests a second mostly does; Go's
	// timers wake a millisecond late at best, so the rate is somewhat
	// lower, and latency is counted from when each request is sent.
	PaceSleep
	// PaceNone sends each request as soon as the last is answered (a
	// closed loop, whatever the rate): each round trip's whole path, one
	// after another.
	PaceNone
)

func (p Pace) String() string { return [...]string{"spin", "sleep", "none"}[p] }

// PingPong makes n requests, one at a time, paced at rate per second, and
// returns their round-trip latencies.
func PingPong(n int, rate float64, size int, pace Pace, request RequestFunc) (*Run, error) {
	r := &Run{Msgs: int64(n), Lat: make([]time.Duration, n)}
	p := Payload(size)
	start := time.Now()
	for j := range n {
		due := start.Add(time.Duration(float64(j) / rate * 1e9))
		switch pace {
		case PaceSleep:
			time.Sleep(time.Until(due))
		case PaceSpin:
			waitUntil(due)
		}
		t0 := time.Now()
		if pace == PaceSpin && due.Before(t0) {
			t0 = due
		}
		if err := request(p); err != nil {
			return nil, fmt.Errorf("request %d: %w", j, err)
		}
		r.Lat[j] = time.Since(t0)
	}
	r.Elapsed = time.Since(start)
	return r, nil
}

// sleepGrain is how late a short sleep can wake: Go's timers on Linux
// wait in milliseconds, so time.Sleep(300µs) returns after about 1.1 ms.
const sleepGrain = 2 * time.Millisecond

// waitUntil returns at due: it sleeps while due is further than
// sleepGrain away, then yields the processor until due. A plain sleep
// would make a 1 ms pace start most requests late, and the latency counted
// from the scheduled time would then be mostly the sleep's overshoot.
func waitUntil(due time.Time) {
	for {
		d := time.Until(due)
		switch {
		case d <= 0:
			return
		case d > sleepGrain:
			time.Sleep(d - sleepGrain)
		default:
			runtime.Gosched()
		}
	}
}

// AsyncPublishers and PingPongRate are the shapes of the native-API
// benchmarks (bench/api and its peer).
var AsyncPublishers = []int{1, 4}

// PingPongPaces are the ping-pong benchmarks' paces.
var PingPongPaces = []Pace{PaceSpin, PaceSleep}

const PingPongRate = 1000
