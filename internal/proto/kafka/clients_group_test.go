package kafka

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// saramaMember is one sarama consumer-group member that commits after
// every message.
type saramaMember struct {
	g      sarama.ConsumerGroup
	cancel context.CancelFunc
	done   chan struct{}
}

type countingHandler struct {
	id   int
	mu   *sync.Mutex
	seen map[string][]int // value → members that processed it
}

func (*countingHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*countingHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *countingHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		h.seen[string(m.Value)] = append(h.seen[string(m.Value)], h.id)
		h.mu.Unlock()
		s.MarkMessage(m, "")
		s.Commit()
	}
	return nil
}

func startSaramaMember(t *testing.T, addr, group, topic string, h *countingHandler) *saramaMember {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Metadata.Retry.Backoff = 10 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 50 * time.Millisecond
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Group.Session.Timeout = 2 * time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = 2 * time.Second
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 10 * time.Millisecond
	g, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &saramaMember{g: g, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil && ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	return m
}

func (m *saramaMember) stop() {
	m.cancel()
	<-m.done
	m.g.Close()
}

// TestKafkaSaramaGroupOfThreeRebalances runs a sarama consumer group of
// three over six partitions: every record is processed exactly once;
// then a member leaves and another joins, and the records produced after
// are still processed exactly once, with nothing lost.
func TestKafkaSaramaGroupOfThreeRebalances(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "sg3", 6)
	mu := &sync.Mutex{}
	seen := map[string][]int{}
	var members []*saramaMember
	for i := range 3 {
		members = append(members, startSaramaMember(t, e.addr, "g3", "sg3", &countingHandler{id: i, mu: mu, seen: seen}))
	}
	defer func() {
		for _, m := range members {
			m.stop()
		}
	}()
	adm := kadm.NewClient(e.client(t))
	waitStable(t, adm, "g3", 3)
	pr := e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	produceN(t, ctx, pr, "sg3", 6, 0, 60)
	waitSeen(t, mu, seen, 60)

	members[0].stop()
	members[0] = startSaramaMember(t, e.addr, "g3", "sg3", &countingHandler{id: 3, mu: mu, seen: seen})
	waitStable(t, adm, "g3", 3)
	produceN(t, ctx, pr, "sg3", 6, 60, 90)
	waitSeen(t, mu, seen, 90)
	time.Sleep(100 * time.Millisecond) // let a late duplicate show
	checkOnceEach(t, mu, seen, 3)
}

func waitStable(t *testing.T, adm *kadm.Client, group string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		ds, err := adm.DescribeGroups(ctx, group)
		if d, ok := ds[group]; err == nil && ok && d.State == "Stable" && len(d.Members) == n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("group %s never stable with %d members", group, n)
}

func waitSeen(t *testing.T, mu *sync.Mutex, seen map[string][]int, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		got := 0
		for i := range n {
			if len(seen[fmt.Sprint(i)]) > 0 {
				got++
			}
		}
		mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	var missing []int
	for i := range n {
		if len(seen[fmt.Sprint(i)]) == 0 {
			missing = append(missing, i)
		}
	}
	t.Fatalf("not all %d values processed: missing %v", n, missing)
}

// TestKafkaKafkaGoGroupOfThreeRebalances does the same with kafka-go
// readers (which commit synchronously after each ReadMessage).
func TestKafkaKafkaGoGroupOfThreeRebalances(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "kg3", 6)
	mu := &sync.Mutex{}
	seen := map[string][]int{}
	var wg sync.WaitGroup
	readers := make([]*kafkago.Reader, 4)
	start := func(id int) {
		r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{e.addr}, GroupID: "kg3-g", Topic: "kg3",
			MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 50 * time.Millisecond, StartOffset: kafkago.FirstOffset,
			HeartbeatInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second, RebalanceTimeout: 2 * time.Second,
			JoinGroupBackoff: 50 * time.Millisecond, ReadBackoffMin: 10 * time.Millisecond, ReadBackoffMax: 50 * time.Millisecond})
		readers[id] = r
		wg.Go(func() {
			for {
				m, err := r.ReadMessage(context.Background())
				if err != nil {
					return // closed
				}
				mu.Lock()
				seen[string(m.Value)] = append(seen[string(m.Value)], id)
				mu.Unlock()
			}
		})
	}
	for i := range 3 {
		start(i)
	}
	adm := kadm.NewClient(e.client(t))
	waitStable(t, adm, "kg3-g", 3)
	pr := e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	produceN(t, ctx, pr, "kg3", 6, 0, 60)
	waitSeen(t, mu, seen, 60)
	readers[0].Close()
	start(3)
	waitStable(t, adm, "kg3-g", 3)
	produceN(t, ctx, pr, "kg3", 6, 60, 90)
	waitSeen(t, mu, seen, 90)
	for _, r := range readers[1:] {
		r.Close()
	}
	wg.Wait()
	checkOnceEach(t, mu, seen, 3)
}

// TestKafkaSaramaAndKafkaGoSurviveRestart produces with sarama and
// commits through a kafka-go group, restarts the broker, and checks that
// both the data and the commits are there: sarama reads every record, and
// the kafka-go group resumes after its commit.
func TestKafkaSaramaAndKafkaGoSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	e, stop := startEnvAt(t, dir)
	e.createStream(t, "rr", 1)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.MaxWaitTime = 50 * time.Millisecond
	p, err := sarama.NewSyncProducer([]string{e.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "rr", Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	readGroup := func(addr string, n int) []string {
		r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, GroupID: "rr-g", Topic: "rr",
			MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 50 * time.Millisecond, StartOffset: kafkago.FirstOffset,
			HeartbeatInterval: 100 * time.Millisecond, SessionTimeout: 2 * time.Second, RebalanceTimeout: 2 * time.Second,
			JoinGroupBackoff: 50 * time.Millisecond})
		defer r.Close()
		ctx := testCtx(t)
		var got []string
		for range n {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("kafka-go read after %v: %v", got, err)
			}
			got = append(got, string(m.Value))
		}
		return got
	}
	if got := readGroup(e.addr, 4); fmt.Sprint(got) != "[0 1 2 3]" {
		t.Fatalf("before restart %v", got)
	}
	stop()

	e2, _ := startEnvAt(t, dir)
	saramaExpect(t, e2, cfg, "rr", 10) // every record is still there
	if got := readGroup(e2.addr, 2); fmt.Sprint(got) != "[4 5]" {
		t.Fatalf("the group resumed at %v, want [4 5]", got)
	}
}

// checkOnceEach asserts that every value was processed by exactly one
// consumer, and that at least spread consumers did some of the work.
func checkOnceEach(t *testing.T, mu *sync.Mutex, seen map[string][]int, spread int) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	by := map[int]int{}
	for v, ms := range seen {
		if len(ms) != 1 {
			t.Errorf("value %s processed by consumers %v", v, ms)
		}
		by[ms[0]]++
	}
	if len(by) < spread {
		t.Errorf("work spread over %d consumers: %v", len(by), by)
	}
}
