package broker

import (
	"context"
	"testing"
	"time"
)

// A reply goes straight to its request, which forgets its inbox when it
// returns; a stream that captures inboxes keeps the replies and the
// request still gets its own.
func TestRequestInboxes(t *testing.T) {
	e := newEnv(t)
	svc, err := e.b.Subscribe("svc.>", Start{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	go func() {
		for {
			select {
			case m := <-svc.Messages():
				for range 2 { // a second reply is dropped
					e.b.Publish(context.Background(), &Message{Subject: m.ReplyTo, Payload: append([]byte("re:"), m.Payload...)}, Expect{})
				}
			case <-svc.Done():
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range []string{"a", "b"} {
		r, err := e.b.Request(ctx, &Message{Subject: "svc.echo", Payload: []byte(p)})
		if err != nil || string(r.Payload) != "re:"+p {
			t.Fatalf("request %s: %v %v", p, r, err)
		}
	}
	e.b.inboxes.mu.Lock()
	left := len(e.b.inboxes.m)
	e.b.inboxes.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d inboxes left after the requests returned", left)
	}

	e.stream(StreamConfig{Name: "replies", Subjects: []string{InboxPrefix + ">"}})
	r, err := e.b.Request(ctx, &Message{Subject: "svc.echo", Payload: []byte("kept")})
	if err != nil || string(r.Payload) != "re:kept" {
		t.Fatalf("request with replies kept by a stream: %v %v", r, err)
	}
	grpWaitFor(t, 5*time.Second, "both replies in the stream", func() bool {
		kept := 0 // a late second reply of "b" may be there too
		for _, m := range grpStreamMsgs(t, e.b, "replies") {
			if string(m.Payload) == "re:kept" {
				kept++
			}
		}
		return kept == 2
	})
}
