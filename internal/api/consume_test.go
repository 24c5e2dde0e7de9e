package api

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/server"
)

// consumeStream is a Consume client stream with helpers.
type consumeStream struct {
	t *testing.T
	courierv1connect.MessagingServiceConsumeClientStream
	queued []*courierv1.Delivery // arrived while waiting for a settled
}

func (e *testEnv) join(t *testing.T, mc courierv1connect.MessagingServiceClient, stream, group string, mif int32) *consumeStream {
	t.Helper()
	return e.joinWant(t, mc, stream, group, mif, mif)
}

// joinWant joins and checks the max in flight the server answers.
func (e *testEnv) joinWant(t *testing.T, mc courierv1connect.MessagingServiceClient, stream, group string, mif, want int32) *consumeStream {
	t.Helper()
	st, err := mc.Consume(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Join{
		Join: &courierv1.Join{Stream: stream, Group: group, MaxInFlight: mif}}}); err != nil {
		t.Fatal(err)
	}
	r, err := st.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if r.GetJoined().GetMaxInFlight() != want {
		t.Fatalf("first answer %v, want joined with max in flight %d", r, want)
	}
	return &consumeStream{t: t, MessagingServiceConsumeClientStream: st}
}

func (c *consumeStream) delivery() *courierv1.Delivery {
	c.t.Helper()
	if len(c.queued) > 0 {
		d := c.queued[0]
		c.queued = c.queued[1:]
		return d
	}
	r, err := c.Receive()
	if err != nil {
		c.t.Fatal(err)
	}
	if !c.queue(r) {
		c.t.Fatalf("got %v, want a delivery", r)
	}
	return c.delivery()
}

// queue keeps the deliveries of r (one, or a Deliveries frame) and says
// whether it had any.
func (c *consumeStream) queue(r *courierv1.ConsumeResponse) bool {
	switch {
	case r.GetDelivery() != nil:
		c.queued = append(c.queued, r.GetDelivery())
	case r.GetDeliveries() != nil:
		c.queued = append(c.queued, r.GetDeliveries().GetDeliveries()...)
	default:
		return false
	}
	return true
}

func (c *consumeStream) settle(id uint64, a courierv1.Settle_Action, delay time.Duration) *courierv1.Settled {
	c.t.Helper()
	s := &courierv1.Settle{DeliveryId: id, Action: a, Error: "bad input"}
	if delay > 0 {
		s.Delay = durationpb.New(delay)
	}
	if err := c.Send(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Settle{Settle: s}}); err != nil {
		c.t.Fatal(err)
	}
	r, err := c.Receive()
	for err == nil && c.queue(r) {
		r, err = c.Receive()
	}
	if err != nil {
		c.t.Fatal(err)
	}
	if r.GetSettled() == nil || r.GetSettled().DeliveryId != id {
		c.t.Fatalf("got %v, want settled %d", r, id)
	}
	return r.GetSettled()
}

func (e *testEnv) publishN(t *testing.T, subject string, n int) {
	t.Helper()
	for i := range n {
		if _, err := e.srv.Publish(testCtx(t), &server.Message{Subject: subject, Payload: fmt.Appendf(nil, "m%d", i)}, server.Expect{}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAPIConsumeAckAndLeave(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			mc, _ := p.clients(e)
			e.jobsGroup(t)
			e.publishN(t, "jobs.a", 3)
			c1 := e.join(t, mc, "jobs", "w", 2)
			d0, d1 := c1.delivery(), c1.delivery()
			if string(d0.Message.Payload) != "m0" || string(d1.Message.Payload) != "m1" || d0.Message.Deliveries != 1 {
				t.Fatalf("deliveries %v %v", d0, d1)
			}
			if s := c1.settle(d0.DeliveryId, courierv1.Settle_ACTION_ACK, 0); s.Error != nil {
				t.Fatalf("ack: %v", s.Error)
			}
			// Max in flight 2: m2 comes only now that m0 is settled.
			d2 := c1.delivery()
			if string(d2.Message.Payload) != "m2" {
				t.Fatalf("third delivery %v", d2)
			}
			// The stream ends with m1 and m2 unsettled: another member gets them.
			c1.CloseSend()
			c1.Close()
			c2 := e.join(t, mc, "jobs", "w", 10)
			got := map[string]int32{}
			for range 2 {
				d := c2.delivery()
				got[string(d.Message.Payload)] = d.Message.Deliveries
				if s := c2.settle(d.DeliveryId, courierv1.Settle_ACTION_ACK, 0); s.Error != nil {
					t.Fatalf("ack: %v", s.Error)
				}
			}
			if got["m1"] != 2 || got["m2"] != 2 || len(got) != 2 {
				t.Fatalf("second member got %v, want m1 and m2 on their second delivery", got)
			}
		})
	}
}

func TestAPIConsumeSettles(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			mc, _ := p.clients(e)
			e.createStream(t, "jobs", "jobs.>")
			e.createStream(t, "dlq", "dlq.>")
			if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "w", Stream: "jobs", DeadLetter: "dlq.jobs"}); err != nil {
				t.Fatal(err)
			}
			e.publishN(t, "jobs.a", 3)
			c := e.join(t, mc, "jobs", "w", 2)
			d0, d1 := c.delivery(), c.delivery()

			// In progress keeps the delivery: it can still be acked.
			if s := c.settle(d0.DeliveryId, courierv1.Settle_ACTION_IN_PROGRESS, 0); s.Error != nil {
				t.Fatalf("in progress: %v", s.Error)
			}
			if len(c.queued) != 0 {
				t.Fatalf("max in flight 2 exceeded: %v arrived", c.queued)
			}
			if s := c.settle(d0.DeliveryId, courierv1.Settle_ACTION_ACK, 0); s.Error != nil {
				t.Fatalf("ack after in progress: %v", s.Error)
			}
			if s := c.settle(d0.DeliveryId, courierv1.Settle_ACTION_ACK, 0); s.Error.GetReason() != "already_settled" {
				t.Fatalf("second ack: %v, want already_settled", s)
			}
			if s := c.settle(999, courierv1.Settle_ACTION_ACK, 0); s.Error.GetReason() != "unknown_delivery" {
				t.Fatalf("ack of an unknown id: %v, want unknown_delivery", s)
			}
			if s := c.settle(d1.DeliveryId, courierv1.Settle_ACTION_UNSPECIFIED, 0); s.Error.GetReason() != "invalid_argument" {
				t.Fatalf("settle without an action: %v, want invalid_argument", s)
			}

			// Nack with a delay: redelivered no earlier, counted twice.
			const delay = 200 * time.Millisecond
			nacked := time.Now()
			if s := c.settle(d1.DeliveryId, courierv1.Settle_ACTION_NACK, delay); s.Error != nil {
				t.Fatalf("nack: %v", s.Error)
			}
			d2 := c.delivery()
			if string(d2.Message.Payload) != "m2" {
				t.Fatalf("after the nack got %v, want m2", d2)
			}
			again := c.delivery()
			if waited := time.Since(nacked); string(again.Message.Payload) != "m1" || again.Message.Deliveries != 2 || waited < delay {
				t.Fatalf("redelivery %v after %v, want m1 on its second delivery after %v", again, waited, delay)
			}
			if again.DeliveryId == d1.DeliveryId {
				t.Fatal("a redelivery reused its delivery id")
			}

			// Term dead-letters with the error text.
			if s := c.settle(again.DeliveryId, courierv1.Settle_ACTION_TERM, 0); s.Error != nil {
				t.Fatalf("term: %v", s.Error)
			}
			c.settle(d2.DeliveryId, courierv1.Settle_ACTION_ACK, 0)
			letter := waitLetter(t, e, "dlq")
			if string(letter.Payload) != "m1" || header(letter, "courier-dlq-reason") != "terminated" ||
				header(letter, "courier-dlq-error") != "bad input" || header(letter, "courier-dlq-group") != "w" {
				t.Fatalf("dead letter %v", letter)
			}
		})
	}
}

// waitLetter reads the first message of a dead-letter stream through the
// API, polling until the group's dead-letter goroutine has stored it.
func waitLetter(t *testing.T, e *testEnv, stream string) *courierv1.Message {
	t.Helper()
	_, ac := e.clients()
	ctx := testCtx(t)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := ac.ReadMessages(ctx, &courierv1.ReadMessagesRequest{Stream: stream})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) > 0 {
			return res.Messages[0]
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("no dead letter arrived")
		}
	}
}

func header(m *courierv1.Message, k string) string {
	for _, h := range m.Headers {
		if h.Key == k {
			return h.Value
		}
	}
	return ""
}

func TestAPIConsumeBadJoins(t *testing.T) {
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	e.createStream(t, "jobs", "jobs.>")
	try := func(first *courierv1.ConsumeRequest) error {
		st, err := mc.Consume(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Send(first); err != nil {
			t.Fatal(err)
		}
		_, err = st.Receive()
		return err
	}
	err := try(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Settle{Settle: &courierv1.Settle{DeliveryId: 1}}})
	wantErr(t, err, connect.CodeInvalidArgument, "invalid_argument")
	if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "g", Stream: "jobs", MaxInFlight: 8}); err != nil {
		t.Fatal(err)
	}
	e.joinWant(t, mc, "jobs", "g", 0, 8)   // the group's
	e.joinWant(t, mc, "jobs", "g", 100, 8) // bounded by the group's
	e.joinWant(t, mc, "jobs", "g", 3, 3)
	err = try(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Join{Join: &courierv1.Join{Stream: "jobs", Group: "nope"}}})
	wantErr(t, err, connect.CodeNotFound, "group_not_found")
	err = try(&courierv1.ConsumeRequest{Request: &courierv1.ConsumeRequest_Join{Join: &courierv1.Join{Stream: "nope", Group: "g"}}})
	wantErr(t, err, connect.CodeNotFound, "group_not_found") // the broker looks the group up by stream and name
}

// TestAPIConsumeAckWaitPassed lets an ack wait pass: the message comes
// again under a new id, and a settle of the old id is already_settled.
func TestAPIConsumeAckWaitPassed(t *testing.T) {
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	e.createStream(t, "jobs", "jobs.>")
	if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "w", Stream: "jobs", AckWait: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e.publishN(t, "jobs.a", 1)
	c := e.join(t, mc, "jobs", "w", 1)
	first := c.delivery()
	again := c.delivery() // after the ack wait
	if again.DeliveryId == first.DeliveryId || again.Message.Offset != first.Message.Offset || again.Message.Deliveries != 2 {
		t.Fatalf("first %v, again %v", first, again)
	}
	if s := c.settle(first.DeliveryId, courierv1.Settle_ACTION_ACK, 0); s.Error.GetReason() != "already_settled" {
		t.Fatalf("ack of the timed-out delivery: %v, want already_settled", s)
	}
	if s := c.settle(again.DeliveryId, courierv1.Settle_ACTION_ACK, 0); s.Error != nil {
		t.Fatalf("ack of the redelivery: %v", s.Error)
	}
}

// TestAPIConsumeSweep checks that a consumer forgets deliveries settled
// behind its back (as the broker's taking back does) and answers their
// ids already_settled.
func TestAPIConsumeSweep(t *testing.T) {
	e := startEnv(t, Options{})
	e.jobsGroup(t)
	e.publishN(t, "jobs.a", 3)
	m, err := e.srv.Join("jobs", "w", 3)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	c := &consumer{s: e.api, m: m, ledger: newLedger()}
	for len(c.out) < 3 {
		select {
		case <-m.Ready():
			for _, d := range m.Take(nil, 3) {
				c.lastID++
				c.out[c.lastID] = d
			}
		case <-testCtx(t).Done():
			t.Fatal("no delivery")
		}
	}
	c.out[1].Ack()
	c.out[2].Ack()
	c.sweep()
	if len(c.out) != 1 || c.out[3] == nil || c.sweepAt != minSweep {
		t.Fatalf("after the sweep: %v (sweep at %d)", c.out, c.sweepAt)
	}
	errs := c.settleIDs(&courierv1.Settle{Action: courierv1.Settle_ACTION_ACK}, []uint64{1, 3, 9})
	if !errors.Is(errs[0], broker.ErrAlreadySettled) || errs[1] != nil || !errors.Is(errs[2], errUnknownDelivery) {
		t.Fatalf("settles of a swept, a held and a never-sent id: %v", errs)
	}
}
