package api

import (
	"testing"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/server"
)

// Requests on one stream are answered as their replies come, out of
// order, by id; a request without responders gets its error; after a
// half-close the answers still due arrive before the end.
func TestAPIRequestStream(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, _ := p.clients(e)
			sub, err := e.srv.Subscribe("svc.>", server.Start{Kind: server.StartLatest}, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			st, err := mc.RequestStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			send := func(id uint64, subject, payload string) {
				t.Helper()
				if err := st.Send(&courierv1.RequestStreamRequest{Id: id, Message: &courierv1.Message{Subject: subject, Payload: []byte(payload)}}); err != nil {
					t.Fatal(err)
				}
			}
			send(1, "svc.a", "first")
			send(2, "svc.b", "second")
			var held []*server.Message
			for len(held) < 2 {
				held = append(held, <-sub.Messages())
			}
			if string(held[0].Payload) == "first" { // answer the second first
				held[0], held[1] = held[1], held[0]
			}
			// Answer the second first: its answer comes while the first
			// request still waits.
			for i, want := range []struct {
				id      uint64
				payload string
			}{{2, "re:second"}, {1, "re:first"}} {
				m := held[i]
				if _, err := e.srv.Publish(ctx, &server.Message{Subject: m.ReplyTo, Payload: append([]byte("re:"), m.Payload...)}, server.Expect{}); err != nil {
					t.Fatal(err)
				}
				res, err := st.Receive()
				if err != nil || res.GetId() != want.id || string(res.GetReply().GetPayload()) != want.payload {
					t.Fatalf("answer %v %v, want id %d %q", res, err, want.id, want.payload)
				}
			}
			send(3, "nobody.home", "x")
			if res, err := st.Receive(); err != nil || res.GetId() != 3 || res.GetError().GetReason() != "no_responders" {
				t.Fatalf("request without responders: %v %v", res, err)
			}
			send(4, "svc.c", "last")
			if err := st.CloseSend(); err != nil {
				t.Fatal(err)
			}
			m := <-sub.Messages()
			if _, err := e.srv.Publish(ctx, &server.Message{Subject: m.ReplyTo, Payload: []byte("late")}, server.Expect{}); err != nil {
				t.Fatal(err)
			}
			if res, err := st.Receive(); err != nil || res.GetId() != 4 || string(res.GetReply().GetPayload()) != "late" {
				t.Fatalf("answer after the half-close: %v %v", res, err)
			}
			if res, err := st.Receive(); err == nil {
				t.Fatalf("after the last answer: %v, want the end", res)
			}
		})
	}
}
