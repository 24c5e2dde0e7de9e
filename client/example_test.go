package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/courier-mq/courier/client"
)

// Streams capture subjects by pattern ("*" is one token, ">" the rest);
// a subject no stream captures reaches live subscribers only. A
// subscription pattern may match across streams.
func Example_routing() {
	addr, stop := startExampleServer()
	defer stop()
	ctx := context.Background()
	c, err := client.Connect(ctx, addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	must(c.CreateStream(ctx, client.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}}))
	must(c.CreateStream(ctx, client.StreamConfig{Name: "audit", Subjects: []string{"audit.*"}}))
	for _, subject := range []string{"orders.eu.created", "audit.login", "orders.us.paid", "metrics.cpu"} {
		ack := must(c.Publish(ctx, &client.Message{Subject: subject}))
		if ack.Stream == "" {
			fmt.Printf("%-17s -> no stream: live subscribers only\n", subject)
			continue
		}
		fmt.Printf("%-17s -> stream %q offset %d\n", subject, ack.Stream, ack.Offset)
	}

	sub := must(c.Subscribe(ctx, "orders.*.created", client.StartEarliest()))
	defer sub.Close()
	m := must(sub.Next(ctx))
	fmt.Println("orders.*.created got", m.Subject, "from", m.Stream)
	// Output:
	// orders.eu.created -> stream "orders" offset 0
	// audit.login       -> stream "audit" offset 0
	// orders.us.paid    -> stream "orders" offset 1
	// metrics.cpu       -> no stream: live subscribers only
	// orders.*.created got orders.eu.created from orders
}

// Competing consumers: the members of a shared group split the messages,
// each message going to one of them.
func Example_competingConsumers() {
	addr, stop := startExampleServer()
	defer stop()
	ctx := context.Background()
	c := must(client.Connect(ctx, addr))
	defer c.Close()
	must(c.CreateStream(ctx, client.StreamConfig{Name: "jobs", Subjects: []string{"jobs.>"}}))
	must(c.CreateGroup(ctx, client.GroupConfig{Name: "workers", Stream: "jobs", Mode: "shared"}))
	for i := range 20 {
		c.PublishAsync(&client.Message{Subject: "jobs.resize", Payload: fmt.Appendf(nil, "%d", i)})
	}
	if err := c.Flush(ctx); err != nil {
		log.Fatal(err)
	}

	var mu sync.Mutex
	done := map[string]int{}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 { // two workers, as two processes would
		wg.Go(func() {
			err := c.Consume(ctx, "jobs", "workers", func(_ context.Context, d *client.Delivery) error {
				mu.Lock()
				defer mu.Unlock()
				done[string(d.Payload)]++
				if len(done) == 20 {
					cancel()
				}
				return nil // acks
			})
			if err != nil {
				log.Fatal(err)
			}
		})
	}
	wg.Wait()
	fmt.Println("jobs done:", len(done))
	// Output:
	// jobs done: 20
}

// Sharded consumers: a keyed group gives each key to one member and one
// message of a key at a time, so each key is processed in order while
// different keys run in parallel.
func Example_shardedConsumers() {
	addr, stop := startExampleServer()
	defer stop()
	ctx := context.Background()
	c := must(client.Connect(ctx, addr))
	defer c.Close()
	must(c.CreateStream(ctx, client.StreamConfig{Name: "accounts", Subjects: []string{"accounts.>"}, Partitions: 2}))
	must(c.CreateGroup(ctx, client.GroupConfig{Name: "ledger", Stream: "accounts", Mode: "keyed"}))
	for i := 1; i <= 4; i++ {
		for _, account := range []string{"alice", "bob", "carol"} {
			c.PublishAsync(&client.Message{Subject: "accounts.tx", Key: []byte(account), Payload: fmt.Appendf(nil, "%d", i)})
		}
	}
	if err := c.Flush(ctx); err != nil {
		log.Fatal(err)
	}

	var mu sync.Mutex
	seen := map[string][]string{}
	total := 0
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			err := c.Consume(ctx, "accounts", "ledger", func(_ context.Context, d *client.Delivery) error {
				mu.Lock()
				defer mu.Unlock()
				seen[string(d.Key)] = append(seen[string(d.Key)], string(d.Payload))
				if total++; total == 12 {
					cancel()
				}
				return nil
			}, client.MaxInFlight(4))
			if err != nil {
				log.Fatal(err)
			}
		})
	}
	wg.Wait()
	for _, account := range []string{"alice", "bob", "carol"} {
		fmt.Println(account, seen[account])
	}
	// Output:
	// alice [1 2 3 4]
	// bob [1 2 3 4]
	// carol [1 2 3 4]
}

// A dead-letter queue: after MaxDeliveries failed deliveries a message is
// published to the group's DeadLetter subject, which a stream captures.
// Once the bug is fixed, Redrive puts the letters back on their subjects.
func Example_deadLetterQueue() {
	addr, stop := startExampleServer()
	defer stop()
	ctx := context.Background()
	c := must(client.Connect(ctx, addr))
	defer c.Close()
	must(c.CreateStream(ctx, client.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}}))
	must(c.CreateStream(ctx, client.StreamConfig{Name: "orders-dlq", Subjects: []string{"dlq.orders"}}))
	must(c.CreateGroup(ctx, client.GroupConfig{Name: "billing", Stream: "orders", MaxDeliveries: 2,
		Backoff: []time.Duration{10 * time.Millisecond}, DeadLetter: "dlq.orders"}))
	must(c.Publish(ctx, &client.Message{Subject: "orders.eu", Payload: []byte("order 1")}))
	must(c.Publish(ctx, &client.Message{Subject: "orders.eu", Payload: []byte("order 2: bad")}))

	billing := must(c.Join(ctx, "orders", "billing"))
	defer billing.Close()
	fixed := false
	process := func() string {
		d := must(billing.Next(ctx))
		if string(d.Payload) == "order 2: bad" && !fixed {
			must(0, d.Nack(ctx, 0)) // fails: redelivered after the backoff
			return fmt.Sprintf("failed %q (delivery %d)", d.Payload, d.Deliveries)
		}
		must(0, d.Ack(ctx))
		return fmt.Sprintf("billed %q", d.Payload)
	}
	for range 3 {
		fmt.Println(process())
	}

	// The second failure dead-lettered the message.
	dlq := must(c.Subscribe(ctx, "dlq.orders", client.StartEarliest()))
	defer dlq.Close()
	letter := must(dlq.Next(ctx))
	origin, _ := letter.Header("courier-dlq-subject")
	fmt.Printf("dead letter %q from %s\n", letter.Payload, origin)

	fixed = true
	res := must(c.Redrive(ctx, "orders-dlq", client.RedriveOptions{}))
	fmt.Println("redriven:", res.Moved)
	fmt.Println(process())
	// Output:
	// billed "order 1"
	// failed "order 2: bad" (delivery 1)
	// failed "order 2: bad" (delivery 2)
	// dead letter "order 2: bad" from orders.eu
	// redriven: 1
	// billed "order 2: bad"
}

// Delayed delivery: a message published WithDelay is stored at once but
// given to groups only once the delay has passed.
func Example_delayedDelivery() {
	addr, stop := startExampleServer()
	defer stop()
	ctx := context.Background()
	c := must(client.Connect(ctx, addr))
	defer c.Close()
	must(c.CreateStream(ctx, client.StreamConfig{Name: "reminders", Subjects: []string{"remind.>"}}))
	must(c.CreateGroup(ctx, client.GroupConfig{Name: "mailer", Stream: "reminders"}))

	sent := time.Now()
	must(c.Publish(ctx, &client.Message{Subject: "remind.cart", Payload: []byte("your cart misses you")},
		client.WithDelay(300*time.Millisecond)))
	mailer := must(c.Join(ctx, "reminders", "mailer"))
	defer mailer.Close()
	d := must(mailer.Next(ctx))
	must(0, d.Ack(ctx))
	fmt.Printf("%q delivered after the delay: %v\n", d.Payload, time.Since(sent) >= 300*time.Millisecond)
	// Output:
	// "your cart misses you" delivered after the delay: true
}

// Request/reply: a responder subscribes to a subject and answers each
// request on its reply subject.
func Example_requestReply() {
	addr, stop := startExampleServer()
	defer stop()
	ctx := context.Background()
	c := must(client.Connect(ctx, addr))
	defer c.Close()

	requests := must(c.Subscribe(ctx, "greet.*", client.Start{}))
	defer requests.Close()
	go func() {
		for {
			req, err := requests.Next(ctx)
			if err != nil {
				return // closed
			}
			c.Reply(ctx, req, &client.Message{Payload: append([]byte("hello, "), req.Payload...)})
		}
	}()

	rep := must(c.Request(ctx, &client.Message{Subject: "greet.en", Payload: []byte("Ada")}))
	fmt.Println(string(rep.Payload))

	_, err := c.Request(ctx, &client.Message{Subject: "nobody.home"})
	fmt.Println(errors.Is(err, client.ErrNoResponders), err)
	// Output:
	// hello, Ada
	// true no_responders: no responders: nobody subscribes to "nobody.home"
}

// must stops the example on an error.
func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
