package amqp

import (
	"fmt"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Many confirmed publishes and three acking consumers: every message is
// confirmed, delivered exactly once (no failures) and in order per
// consumer.
func TestAMQPLoadConfirmsAndAcks(t *testing.T) {
	e := startEnv(t, Options{})
	pub := e.channel(t)
	declareQueue(t, pub, "load")
	if err := pub.Confirm(false); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	confirms := pub.NotifyPublish(make(chan amqp091.Confirmation, n))
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 3 {
		ch := e.channel(t)
		if err := ch.Qos(10, 0, false); err != nil {
			t.Fatal(err)
		}
		ds := consume(t, ch, "load", false)
		wg.Go(func() {
			last := -1
			for {
				select {
				case d := <-ds:
					var i int
					fmt.Sscan(string(d.Body), &i)
					mu.Lock()
					seen[string(d.Body)]++
					mu.Unlock()
					if i <= last {
						t.Errorf("out of order: %d after %d", i, last)
					}
					last = i
					d.Ack(false)
				case <-done:
					return
				}
			}
		})
	}
	for i := range n {
		publish(t, pub, "", "load", fmt.Sprint(i))
	}
	for i := range n {
		select {
		case c := <-confirms:
			if !c.Ack {
				t.Fatalf("publish %d nacked", c.DeliveryTag)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d confirms", i, n)
		}
	}
	waitFor(t, "every delivery", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == n })
	close(done)
	wg.Wait()
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("%s delivered %d times", k, c)
		}
	}
}
