package api

import (
	"testing"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/server"
)

// Replies on a ReplyStream are published as they arrive; a refused one is
// answered at once with its id and reason; the published ones are
// answered together (one answer naming the last id); after a half-close
// what is due is answered before the end.
func TestAPIReplyStream(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, _ := p.clients(e)
			sub, err := e.srv.Subscribe("inbox.>", server.Start{Kind: server.StartLatest}, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			st, err := mc.ReplyStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			send := func(id uint64, subject, payload string) {
				t.Helper()
				if err := st.Send(&courierv1.ReplyStreamRequest{Id: id, Message: &courierv1.Message{Subject: subject, Payload: []byte(payload)}}); err != nil {
					t.Fatal(err)
				}
			}
			send(1, "inbox.a", "one")
			send(2, "bad..subject", "two")
			send(3, "inbox.b", "three")
			for _, want := range []string{"one", "three"} {
				if m := <-sub.Messages(); string(m.Payload) != want {
					t.Fatalf("published %q, want %q", m.Payload, want)
				}
			}
			// The refusal of 2, and answers up to 3 (reply 1 may be
			// answered alone when the stream is slow).
			refused, answered := false, uint64(0)
			for !refused || answered < 3 {
				res, err := st.Receive()
				switch {
				case err != nil:
					t.Fatal(err)
				case res.GetError() != nil:
					if res.GetId() != 2 || res.GetError().GetReason() != "invalid_argument" || refused {
						t.Fatalf("refusal %v", res)
					}
					refused = true
				case res.GetId() <= answered || res.GetId() == 2 || res.GetId() > 3:
					t.Fatalf("answer %v after answers up to %d", res, answered)
				default:
					answered = res.GetId()
				}
			}
			send(4, "inbox.c", "four")
			if err := st.CloseSend(); err != nil {
				t.Fatal(err)
			}
			if res, err := st.Receive(); err != nil || res.GetId() != 4 || res.GetError() != nil {
				t.Fatalf("answer after the half-close: %v %v", res, err)
			}
			if res, err := st.Receive(); err == nil {
				t.Fatalf("after the last answer: %v, want the end", res)
			}
		})
	}
}
