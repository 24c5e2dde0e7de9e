package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/courier-mq/courier/internal/servertest"
	"github.com/courier-mq/courier/server"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The server's Backend must keep offering commits.
var _ Backend = (*server.Server)(nil)

// groupOpts are kgo options for a fast group member.
func groupOpts(group, topic string, extra ...kgo.Opt) []kgo.Opt {
	return append([]kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.SessionTimeout(time.Second), kgo.RebalanceTimeout(time.Second),
		kgo.HeartbeatInterval(50 * time.Millisecond), kgo.FetchMaxWait(50 * time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, extra...)
}

// produceN produces values from..to-1 round robin over parts partitions.
func produceN(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, parts, from, to int) {
	t.Helper()
	var rs []*kgo.Record
	for i := from; i < to; i++ {
		rs = append(rs, &kgo.Record{Topic: topic, Partition: int32(i % parts), Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// tally counts which member processed each value.
type tally struct {
	mu   sync.Mutex
	by   map[string][]int
	memb map[int]int
}

func (ty *tally) add(member int, r *kgo.Record) {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	ty.by[string(r.Value)] = append(ty.by[string(r.Value)], member)
	ty.memb[member]++
}

// waitAll waits until values 0..n-1 were all processed, then checks that
// each was processed exactly once.
func (ty *tally) waitAll(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Second)
	for {
		ty.mu.Lock()
		got := 0
		for i := range n {
			if len(ty.by[strconv.Itoa(i)]) > 0 {
				got++
			}
		}
		ty.mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processed %d of %d values", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ty.mu.Lock()
	defer ty.mu.Unlock()
	for v, ms := range ty.by {
		if len(ms) != 1 {
			t.Errorf("value %s processed by members %v", v, ms)
		}
	}
}

// groupMember runs a consumer-group member until stop, then commits what
// it processed and leaves.
type groupMember struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func startMember(t *testing.T, e *testEnv, id int, ty *tally, opts []kgo.Opt) *groupMember {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.addr), kgo.MetadataMinAge(50 * time.Millisecond),
		kgo.RetryTimeout(3 * time.Second), kgo.BlockRebalanceOnPoll(), kgo.ClientID(fmt.Sprint("m", id))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &groupMember{cl: cl, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) { ty.add(id, r) })
			cl.AllowRebalance()
		}
	}()
	t.Cleanup(m.stop)
	return m
}

func (m *groupMember) stop() {
	if m.cl == nil {
		return
	}
	m.cancel()
	<-m.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m.cl.CommitUncommittedOffsets(ctx)
	m.cl.Close()
	m.cl = nil
}

func TestKafkaGroupConsumers(t *testing.T) {
	for _, bal := range []kgo.GroupBalancer{kgo.RangeBalancer(), kgo.RoundRobinBalancer(), kgo.CooperativeStickyBalancer()} {
		t.Run(bal.ProtocolName(), func(t *testing.T) {
			e := startEnv(t, Options{GroupInitialRebalanceDelay: 200 * time.Millisecond})
			e.createStream(t, "cg", 6)
			ctx := testCtx(t)
			prod := e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			produceN(t, ctx, prod, "cg", 6, 0, 300)
			ty := &tally{by: map[string][]int{}, memb: map[int]int{}}
			opts := groupOpts("g-"+bal.ProtocolName(), "cg", kgo.Balancers(bal))
			ms := []*groupMember{startMember(t, e, 0, ty, opts), startMember(t, e, 1, ty, opts), startMember(t, e, 2, ty, opts)}
			ty.waitAll(t, 300)
			ty.mu.Lock()
			if len(ty.memb) != 3 {
				t.Errorf("records per member: %v; want all three to consume", ty.memb)
			}
			ty.mu.Unlock()

			// One member leaves, another joins; nothing is lost or repeated.
			ms[2].stop()
			startMember(t, e, 3, ty, opts)
			produceN(t, ctx, prod, "cg", 6, 300, 600)
			ty.waitAll(t, 600)
			t.Logf("records per member: %v", ty.memb)
		})
	}
}

// startEnvAt starts a server over dir; the returned function stops it.
func startEnvAt(t *testing.T, dir string) (*testEnv, func()) {
	t.Helper()
	srv := servertest.Start(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := New(srv, Options{})
	served := make(chan error, 1)
	go func() { served <- k.Serve(ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := k.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-served; err != ErrServerClosed {
				t.Errorf("Serve returned %v", err)
			}
			srv.Shutdown(context.Background())
		})
	}
	t.Cleanup(stop)
	return &testEnv{srv: srv, k: k, addr: ln.Addr().String()}, stop
}

func TestKafkaGroupCommitsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	e, stop := startEnvAt(t, dir)
	e.createStream(t, "rs", 2)
	ctx := testCtx(t)
	produceN(t, ctx, e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), "rs", 2, 0, 10)
	cl := e.client(t, groupOpts("rg", "rs")...)
	consume(t, ctx, cl, 10)
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	stop()

	e2, _ := startEnvAt(t, dir)
	os, err := kadm.NewClient(e2.client(t)).FetchOffsets(ctx, "rg")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		if o, ok := os.Lookup("rs", p); !ok || o.At != 5 || o.Err != nil {
			t.Errorf("partition %d after restart: %+v %v", p, o, ok)
		}
	}
	// A new member resumes after the commits: the next record is 10.
	produceN(t, ctx, e2.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), "rs", 2, 10, 11)
	rs := consume(t, ctx, e2.client(t, groupOpts("rg", "rs")...), 1)
	if string(rs[0].Value) != "10" {
		t.Errorf("resumed at %q, want 10", rs[0].Value)
	}
}

func TestKafkaGroupAdmin(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "ad", 3)
	ctx := testCtx(t)
	produceN(t, ctx, e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), "ad", 3, 0, 9)
	cl := e.client(t, groupOpts("ag", "ad", kgo.ClientID("admin-member"))...)
	consume(t, ctx, cl, 9)
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(e.client(t))

	ds, err := adm.DescribeGroups(ctx, "ag")
	if err != nil {
		t.Fatal(err)
	}
	d := ds["ag"]
	if d.Err != nil || d.State != "Stable" || d.ProtocolType != "consumer" || len(d.Members) != 1 {
		t.Fatalf("describe: %+v", d)
	}
	if ca, ok := d.Members[0].Assigned.AsConsumer(); !ok || len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 3 {
		t.Errorf("assignment: %+v", d.Members[0].Assigned)
	}
	if d.Members[0].ClientID != "admin-member" {
		t.Errorf("client id %q", d.Members[0].ClientID)
	}
	ls, err := adm.ListGroups(ctx)
	if err != nil || !hasGroup(ls, "ag") || ls["ag"].State != "Stable" {
		t.Fatalf("list: %v %+v", err, ls)
	}
	os, err := adm.FetchOffsets(ctx, "ag")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(3) {
		if o, _ := os.Lookup("ad", p); o.At != 3 {
			t.Errorf("partition %d committed at %d", p, o.At)
		}
	}
	del, _ := adm.DeleteGroups(ctx, "ag")
	if !errors.Is(del["ag"].Err, kerr.NonEmptyGroup) {
		t.Errorf("delete of a live group: %v", del["ag"].Err)
	}
	odel, _ := adm.DeleteOffsets(ctx, "ag", kadm.TopicsSet{"ad": {0: {}}})
	if err := odel.Error(); !errors.Is(err, kerr.GroupSubscribedToTopic) {
		t.Errorf("offset delete of a subscribed topic: %v", err)
	}
	cl.Close()

	odel, err = adm.DeleteOffsets(ctx, "ag", kadm.TopicsSet{"ad": {0: {}}})
	if err != nil || odel.Error() != nil {
		t.Fatalf("offset delete: %v %v", err, odel.Error())
	}
	os, _ = adm.FetchOffsets(ctx, "ag")
	if o, ok := os.Lookup("ad", 0); ok && o.At != -1 {
		t.Errorf("partition 0 after OffsetDelete: %+v", o)
	}
	if o, _ := os.Lookup("ad", 1); o.At != 3 {
		t.Errorf("partition 1 after OffsetDelete: %+v", o)
	}
	ls, _ = adm.ListGroups(ctx)
	if !hasGroup(ls, "ag") || ls["ag"].State != "Empty" {
		t.Errorf("list after leave: %+v", ls)
	}
	del, err = adm.DeleteGroups(ctx, "ag", "nope")
	if err != nil || del["ag"].Err != nil || !errors.Is(del["nope"].Err, kerr.GroupIDNotFound) {
		t.Fatalf("delete: %v %+v", err, del)
	}
	os, _ = adm.FetchOffsets(ctx, "ag")
	if o, ok := os.Lookup("ad", 1); ok && o.At != -1 {
		t.Errorf("commits after DeleteGroups: %+v", o)
	}
	if ls, _ = adm.ListGroups(ctx); hasGroup(ls, "ag") {
		t.Errorf("deleted group still listed")
	}
}

func TestKafkaGroupSarama(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "sg", 2)
	ctx := testCtx(t)
	produceN(t, ctx, e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), "sg", 2, 0, 10)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Metadata.Retry.Backoff = 10 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 50 * time.Millisecond
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 50 * time.Millisecond
	cfg.Consumer.Group.Session.Timeout = time.Second
	cfg.Consumer.Group.Heartbeat.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = time.Second
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 10 * time.Millisecond
	g, err := sarama.NewConsumerGroup([]string{e.addr}, "sarama-g", cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &saramaHandler{got: make(chan string, 100)}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { // Consume ends at each rebalance: sarama says to call it again
		var err error
		for err == nil && cctx.Err() == nil {
			err = g.Consume(cctx, []string{"sg"}, h)
		}
		done <- err
	}()
	seen := map[string]bool{}
	for len(seen) < 10 {
		select {
		case v := <-h.got:
			seen[v] = true
		case <-ctx.Done():
			t.Fatalf("got %d of 10", len(seen))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Consume: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	os, err := kadm.NewClient(e.client(t)).FetchOffsets(ctx, "sarama-g")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		if o, _ := os.Lookup("sg", p); o.At != 5 {
			t.Errorf("sarama commit on partition %d: %+v", p, o)
		}
	}
}

type saramaHandler struct{ got chan string }

func (*saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.got <- string(m.Value)
		s.MarkMessage(m, "")
	}
	return nil
}

func hasGroup(ls kadm.ListedGroups, name string) bool { _, ok := ls[name]; return ok }

func TestKafkaGroupBadRequests(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "bt", 1)
	ctx := testCtx(t)
	cl := e.client(t)
	meta := (&kmsg.ConsumerMemberMetadata{Topics: []string{"bt"}}).AppendTo(nil)
	// A parked JoinGroup holds its connection (requests are served in
	// order), so the second member uses its own client.
	cl2 := e.client(t)
	joinVia := func(cl *kgo.Client, member string, session, rebalance int32) *kmsg.JoinGroupResponse {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.MemberID, req.ProtocolType = "bg", member, "consumer"
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = session, rebalance
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	join := func(member string, session, rebalance int32) *kmsg.JoinGroupResponse {
		return joinVia(cl, member, session, rebalance)
	}
	hb := func(member string, gen int32) int16 {
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.MemberID, req.Generation = "bg", member, gen
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.ErrorCode
	}
	syncg := func(member string, gen int32) *kmsg.SyncGroupResponse {
		req := kmsg.NewPtrSyncGroupRequest()
		req.Group, req.MemberID, req.Generation = "bg", member, gen
		req.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: member, MemberAssignment: []byte("a")}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	commit := func(member string, gen int32) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.MemberID, req.Generation = "bg", member, gen
		req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "bt", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	want := func(what string, got int16, err *kerr.Error) {
		t.Helper()
		w := int16(0)
		if err != nil {
			w = err.Code
		}
		if got != w {
			t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(got), err)
		}
	}

	want("heartbeat in an unknown group", hb("nobody", 1), kerr.UnknownMemberID)
	r := join("", 10000, 300)
	want("first join", r.ErrorCode, kerr.MemberIDRequired)
	id := r.MemberID
	r = join(id, 10000, 300)
	want("join", r.ErrorCode, nil)
	if r.Generation != 1 || r.LeaderID != id || len(r.Members) != 1 || *r.Protocol != "range" {
		t.Fatalf("join: %+v", r)
	}
	want("join with an unknown member id", join("forged", 10000, 300).ErrorCode, kerr.UnknownMemberID)
	want("sync of another generation", syncg(id, 2).ErrorCode, kerr.IllegalGeneration)
	if s := syncg(id, 1); s.ErrorCode != 0 || string(s.MemberAssignment) != "a" {
		t.Fatalf("sync: %+v", s)
	}
	want("heartbeat", hb(id, 1), nil)
	want("heartbeat of another generation", hb(id, 2), kerr.IllegalGeneration)
	want("heartbeat of an unknown member", hb("forged", 1), kerr.UnknownMemberID)
	want("commit of another generation", commit(id, 0), kerr.IllegalGeneration)
	want("commit of an unknown member", commit("forged", 1), kerr.UnknownMemberID)
	want("commit without a member in a live group", commit("", -1), kerr.UnknownMemberID)
	want("commit", commit(id, 1), nil)

	// A second member starts a rebalance; the first learns it from its
	// heartbeat and rejoins.
	r2 := join("", 300, 300)
	want("second join", r2.ErrorCode, kerr.MemberIDRequired)
	joined := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { joined <- joinVia(cl2, r2.MemberID, 300, 300) }()
	deadline := time.Now().Add(2 * time.Second)
	for hb(id, 1) != kerr.RebalanceInProgress.Code {
		if time.Now().After(deadline) {
			t.Fatal("no REBALANCE_IN_PROGRESS")
		}
		time.Sleep(5 * time.Millisecond)
	}
	want("commit during the join phase", commit(id, 1), nil)
	r = join(id, 10000, 300)
	r2 = <-joined
	if r.Generation != 2 || r2.Generation != 2 || r.LeaderID != id || len(r.Members) != 2 || len(r2.Members) != 0 {
		t.Fatalf("rejoin: %+v / %+v", r, r2)
	}
	// The second member's session (300 ms) expires; the first does not
	// rejoin within its rebalance timeout (300 ms): the group empties.
	// (Heartbeats of the first member only: they would keep the second
	// alive.)
	for _, code := range []int16{kerr.RebalanceInProgress.Code, kerr.UnknownMemberID.Code} {
		deadline := time.Now().Add(2 * time.Second)
		for hb(id, 2) != code {
			if time.Now().After(deadline) {
				t.Fatalf("no %v", kerr.ErrorForCode(code))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	want("heartbeat of the expired member", hb(r2.MemberID, 2), kerr.UnknownMemberID)
	ds, err := kadm.NewClient(cl).DescribeGroups(ctx, "bg")
	if err != nil || ds["bg"].State != "Empty" {
		t.Fatalf("describe: %v %+v", err, ds)
	}
	want("commit by a client managing its own partitions", commit("", -1), nil)
	long := kmsg.NewPtrOffsetCommitRequest()
	long.Group = strings.Repeat("g", 256)
	long.Generation = -1
	long.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "bt", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}}}
	if resp, err := long.RequestWith(ctx, cl); err != nil || resp.Topics[0].Partitions[0].ErrorCode != kerr.InvalidGroupID.Code {
		t.Fatalf("commit to a 256-byte group name: %v %+v", err, resp)
	}
}

func TestKafkaGroupKafkaGo(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "kg", 2)
	ctx := testCtx(t)
	produceN(t, ctx, e.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), "kg", 2, 0, 10)
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{e.addr}, GroupID: "kafkago-g", Topic: "kg",
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 50 * time.Millisecond, StartOffset: kafkago.FirstOffset,
		HeartbeatInterval: 100 * time.Millisecond, SessionTimeout: time.Second, RebalanceTimeout: time.Second,
		JoinGroupBackoff: 50 * time.Millisecond, ReadBackoffMin: 10 * time.Millisecond, ReadBackoffMax: 50 * time.Millisecond})
	seen := map[string]bool{}
	for len(seen) < 10 {
		m, err := r.ReadMessage(ctx) // commits synchronously
		if err != nil {
			t.Fatalf("after %d: %v", len(seen), err)
		}
		seen[string(m.Value)] = true
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	os, err := kadm.NewClient(e.client(t)).FetchOffsets(ctx, "kafkago-g")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		if o, _ := os.Lookup("kg", p); o.At != 5 {
			t.Errorf("kafka-go commit on partition %d: %+v", p, o)
		}
	}
}

func TestKafkaGroupShutdownAnswersParkedJoin(t *testing.T) {
	e, stop := startEnvAt(t, t.TempDir())
	ctx := testCtx(t)
	join := func(cl *kgo.Client, member string) (*kmsg.JoinGroupResponse, error) {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.MemberID, req.ProtocolType = "sd", member, "consumer"
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
		return req.RequestWith(ctx, cl)
	}
	cl, cl2 := e.client(t, kgo.RetryTimeout(100*time.Millisecond)), e.client(t, kgo.RetryTimeout(100*time.Millisecond))
	r, err := join(cl, "")
	if err == nil {
		r, err = join(cl, r.MemberID)
	}
	if err != nil || r.ErrorCode != 0 {
		t.Fatalf("join: %v %+v", err, r)
	}
	// The second member waits for the first, which never rejoins.
	parked := make(chan struct{})
	go func() {
		defer close(parked)
		if r2, err := join(cl2, ""); err == nil {
			join(cl2, r2.MemberID)
		}
	}()
	deadline := time.Now().Add(2 * time.Second)
	for {
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.MemberID, req.Generation = "sd", r.MemberID, r.Generation
		if resp, err := req.RequestWith(ctx, cl); err == nil && resp.ErrorCode == kerr.RebalanceInProgress.Code {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second member did not park")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	stop() // fails the test if Shutdown times out
	<-parked
	if d := time.Since(start); d > time.Second {
		t.Errorf("Shutdown took %v with a parked join", d)
	}
}

func TestKafkaGroupStaticMember(t *testing.T) {
	e := startEnv(t, Options{})
	ctx := testCtx(t)
	cl := e.client(t)
	inst := "instance-1"
	join := func() *kmsg.JoinGroupResponse {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group, req.InstanceID, req.ProtocolType = "st", &inst, "consumer"
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("join: %v %+v", err, resp)
		}
		return resp
	}
	first := join() // a static member gets its id at once
	second := join()
	if first.MemberID == second.MemberID || second.Generation != first.Generation+1 {
		t.Fatalf("rejoin of the instance: %+v then %+v", first, second)
	}
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.MemberID, req.InstanceID, req.Generation = "st", first.MemberID, &inst, second.Generation
	if resp, err := req.RequestWith(ctx, cl); err != nil || resp.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("heartbeat of the old incarnation: %v %+v", err, resp)
	}
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Group = "st"
	leave.Members = []kmsg.LeaveGroupRequestMember{{InstanceID: &inst}, {MemberID: "nobody"}}
	resp, err := leave.RequestWith(ctx, cl)
	if err != nil || len(resp.Members) != 2 || resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("batch leave: %v %+v", err, resp)
	}
}
