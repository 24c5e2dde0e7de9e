package api

import (
	"strconv"
	"strings"
	"testing"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/server"
)

// Over wire, requests and replies to subjects no stream captures are
// published on the connection's reader; those a stream captures go
// through the receive goroutine, which waits for their durability. Both
// kinds, mixed on one stream, are published and answered.
func TestAPIStoredAndLiveOnOneStream(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			e.createStream(t, "jobs", "jobs.>")
			e.createStream(t, "kept", "kept.>")
			mc, _ := p.clients(e)
			sub, err := e.srv.Subscribe("*.>", server.Start{Kind: server.StartLatest}, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			next := func() *server.Message { // the next one that is not a reply to a request
				for {
					if m := <-sub.Messages(); !strings.HasPrefix(m.Subject, "_INBOX.") {
						return m
					}
				}
			}

			reqs, err := mc.RequestStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer reqs.Close()
			for id, subj := range []string{"jobs.a", "svc.b", "jobs.c", "svc.d"} {
				if err := reqs.Send(&courierv1.RequestStreamRequest{Id: uint64(id + 1), Message: &courierv1.Message{Subject: subj, Payload: []byte(subj)}}); err != nil {
					t.Fatal(err)
				}
			}
			for range 4 {
				m := next()
				if _, err := e.srv.Publish(ctx, &server.Message{Subject: m.ReplyTo, Payload: append([]byte("re:"), m.Payload...)}, server.Expect{}); err != nil {
					t.Fatal(err)
				}
			}
			want := map[uint64]string{1: "re:jobs.a", 2: "re:svc.b", 3: "re:jobs.c", 4: "re:svc.d"}
			for range 4 {
				res, err := reqs.Receive()
				if err != nil || want[res.GetId()] != string(res.GetReply().GetPayload()) {
					t.Fatalf("answer %v %v, want one of %v", res, err, want)
				}
				delete(want, res.GetId())
			}

			reps, err := mc.ReplyStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer reps.Close()
			for id, subj := range []string{"kept.a", "live.b", "kept.c", "live.d"} {
				if err := reps.Send(&courierv1.ReplyStreamRequest{Id: uint64(id + 1), Message: &courierv1.Message{Subject: subj, Payload: []byte(subj)}}); err != nil {
					t.Fatal(err)
				}
			}
			got := map[string]bool{}
			for range 4 {
				got[string(next().Payload)] = true
			}
			if len(got) != 4 {
				t.Fatalf("published %v", got)
			}
			if err := reps.CloseSend(); err != nil {
				t.Fatal(err)
			}
			var last uint64
			for {
				res, err := reps.Receive()
				if err != nil {
					break
				}
				if res.GetError() != nil {
					t.Fatalf("refused: %v", res)
				}
				last = res.GetId()
			}
			if last != 4 {
				t.Fatalf("answered up to %d, want 4", last)
			}
			info, err := e.srv.StreamInfo("kept")
			if err != nil || len(info.Partitions) != 1 || info.Partitions[0].Messages != 2 {
				t.Fatalf("kept holds %+v, %v; want 2 messages", info, err)
			}
		})
	}
}

// A subscription's live messages arrive in publish order whether they
// went out on the publisher's goroutine or through the handler's buffer
// (bursts mix both).
func TestAPISubscribeLiveOrder(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := startEnv(t, Options{})
			ctx := testCtx(t)
			mc, _ := p.clients(e)
			sub, err := mc.Subscribe(ctx, &courierv1.SubscribeRequest{Pattern: "live.>"})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			const n, burst = 3000, 200
			got := make(chan int, n)
			warm := make(chan struct{})
			go func() {
				defer close(got)
				warmed := false
				for i := 0; i < n; {
					res, err := sub.Receive()
					if err != nil {
						return
					}
					if res.GetMessage().GetSubject() == "live.warm" { // published until the subscription is live
						if !warmed {
							close(warm)
							warmed = true
						}
						continue
					}
					if string(res.GetMessage().GetPayload()) != strconv.Itoa(i) {
						t.Errorf("message %d is %q", i, res.GetMessage().GetPayload())
						return
					}
					got <- i
					i++
				}
			}()
			for live := false; !live; {
				if _, err := e.srv.Publish(ctx, &server.Message{Subject: "live.warm"}, server.Expect{}); err != nil {
					t.Fatal(err)
				}
				select {
				case <-warm:
					live = true
				case <-time.After(10 * time.Millisecond):
				}
			}
			for i := range n {
				if i%burst == 0 && i > 0 { // let the reader catch up: a burst fits the buffer
					for j := range got {
						if j == i-1 {
							break
						}
					}
				}
				if _, err := e.srv.Publish(ctx, &server.Message{Subject: "live.x", Payload: []byte(strconv.Itoa(i))}, server.Expect{}); err != nil {
					t.Fatal(err)
				}
			}
			for j := range got {
				if j == n-1 {
					return
				}
			}
			t.Fatal("the subscription ended early")
		})
	}
}
