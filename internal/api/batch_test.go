package api

import (
	"fmt"
	"testing"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

func TestAPIPublishBatch(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, _ := p.clients(e)
			e.createStream(t, "orders", "orders.>")
			st, err := mc.PublishBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// 3000 messages (more than the in-flight bound), with failures
			// at 10 (invalid subject), 20 (wrong expectation) and 30 (no
			// message), and one uncaptured subject at 40.
			const n = 3000
			bad := map[int]string{10: "invalid_argument", 20: "wrong_last_offset", 30: "invalid_argument"}
			for i := range n {
				req := pub("orders.eu", fmt.Sprint(i))
				switch i {
				case 10:
					req.Message.Subject = "orders..eu"
				case 20:
					wrong := int64(999)
					req.ExpectLastOffset = &wrong
				case 30:
					req.Message = nil
				case 40:
					req.Message.Subject = "elsewhere"
				}
				if err := st.Send(&courierv1.PublishBatchRequest{Publishes: []*courierv1.PublishRequest{req}}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := st.CloseAndReceive()
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Results) != n {
				t.Fatalf("%d results, want %d", len(res.Results), n)
			}
			offset := int64(0)
			for i, r := range res.Results {
				switch {
				case bad[i] != "":
					if r.Error == nil || r.Error.Reason != bad[i] || r.Ack != nil {
						t.Fatalf("result %d: %v, want %s", i, r, bad[i])
					}
				case i == 40:
					if r.Error != nil || r.Ack.Stream != "" {
						t.Fatalf("result %d: %v, want an ack without a stream", i, r)
					}
				default:
					if r.Error != nil || r.Ack.Stream != "orders" || r.Ack.Offset != offset {
						t.Fatalf("result %d: %v, want offset %d", i, r, offset)
					}
					offset++
				}
			}
			// Stored in the order sent.
			msgs, _, err := e.srv.ReadMessages("orders", 0, 0, n)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != int(offset) {
				t.Fatalf("%d stored, want %d", len(msgs), offset)
			}
			i := 0
			for _, m := range msgs {
				for bad[i] != "" || i == 40 {
					i++
				}
				if string(m.Payload) != fmt.Sprint(i) {
					t.Fatalf("offset %d holds %q, want %d", m.Offset, m.Payload, i)
				}
				i++
			}
		})
	}
}

func TestAPIPublishBatchEmpty(t *testing.T) {
	e := startEnv(t, Options{})
	mc, _ := e.clients()
	st, err := mc.PublishBatch(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.CloseAndReceive()
	if err != nil || len(res.Results) != 0 {
		t.Fatalf("empty batch: %v %v", res, err)
	}
}
