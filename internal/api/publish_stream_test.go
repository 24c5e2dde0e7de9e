package api

import (
	"fmt"
	"strings"
	"testing"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// Many batches in flight at once (more than the server's depth) are
// answered in order, a batch per answer, with each message's own outcome;
// the messages are stored in the order sent.
func TestAPIPublishStreamPipelined(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, _ := p.clients(e)
			e.createStream(t, "orders", "orders.>")
			st, err := mc.PublishStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			const batches, per = 3 * streamDepth, 10
			// Batch 5's third message has an invalid subject; batch 7 its
			// first one no message.
			bad := map[[2]int]bool{{5, 2}: true, {7, 0}: true}
			sent := make(chan error, 1)
			go func() {
				for b := range batches {
					req := &courierv1.PublishStreamRequest{}
					for i := range per {
						pr := pub("orders.eu", fmt.Sprintf("%d.%d", b, i))
						switch {
						case b == 5 && i == 2:
							pr.Message.Subject = "orders..eu"
						case b == 7 && i == 0:
							pr.Message = nil
						}
						req.Publishes = append(req.Publishes, pr)
					}
					if err := st.Send(req); err != nil {
						sent <- err
						return
					}
				}
				sent <- st.CloseSend()
			}()
			offset := int64(0)
			for b := range batches {
				res, err := st.Receive()
				if err != nil {
					t.Fatalf("answer %d: %v", b, err)
				}
				if len(res.Results) != per {
					t.Fatalf("answer %d has %d results, want %d", b, len(res.Results), per)
				}
				for i, r := range res.Results {
					if bad[[2]int{b, i}] {
						if r.GetError().GetReason() != "invalid_argument" {
							t.Fatalf("batch %d message %d: %v, want invalid_argument", b, i, r)
						}
						continue
					}
					if r.GetError() != nil || r.GetAck().GetOffset() != offset {
						t.Fatalf("batch %d message %d: %v, want offset %d", b, i, r, offset)
					}
					offset++
				}
			}
			if _, err := st.Receive(); err == nil || !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("after the last answer: %v, want the end of the stream", err)
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			msgs, _, err := e.srv.ReadMessages("orders", 0, 0, int(offset))
			if err != nil || len(msgs) != int(offset) {
				t.Fatalf("%d stored (%v), want %d", len(msgs), err, offset)
			}
			want := 0
			for _, m := range msgs {
				for bad[[2]int{want / per, want % per}] {
					want++
				}
				if string(m.Payload) != fmt.Sprintf("%d.%d", want/per, want%per) {
					t.Fatalf("offset %d holds %q", m.Offset, m.Payload)
				}
				want++
			}
		})
	}
}

// A request over the read bound ends the stream with an error after the
// batches before it were answered.
func TestAPIPublishStreamErrorMidStream(t *testing.T) {
	e := startEnv(t, Options{MaxMessageBytes: 4096})
	mc, _ := e.clients()
	e.createStream(t, "orders", "orders.>")
	st, err := mc.PublishStream(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ok := &courierv1.PublishStreamRequest{Publishes: []*courierv1.PublishRequest{pub("orders.eu", "a")}}
	big := &courierv1.PublishStreamRequest{Publishes: []*courierv1.PublishRequest{pub("orders.eu", strings.Repeat("x", 8192))}}
	for _, req := range []*courierv1.PublishStreamRequest{ok, big} {
		if err := st.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Receive()
	if err != nil || res.Results[0].GetAck().GetOffset() != 0 {
		t.Fatalf("first answer: %v, %v", res, err)
	}
	if _, err := st.Receive(); err == nil || !strings.Contains(err.Error(), "request_too_large") {
		t.Fatalf("after an oversized batch: %v, want request_too_large", err)
	}
}
