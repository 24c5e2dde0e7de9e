package api

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
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
	if r.GetJoined() == nil {
		t.Fatalf("first answer %v, want joined", r)
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
	if r.GetDelivery() == nil {
		c.t.Fatalf("got %v, want a delivery", r)
	}
	return r.GetDelivery()
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
	for err == nil && r.GetDelivery() != nil {
		c.queued = append(c.queued, r.GetDelivery())
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
			mc, _ := e.clients(p.opts...)
			e.createStream(t, "jobs", "jobs.>")
			if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "w", Stream: "jobs"}); err != nil {
				t.Fatal(err)
			}
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
