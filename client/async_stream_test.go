package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/api"
	"github.com/courier-mq/courier/server"
)

// Small batches on one lane are in flight several at once; a message that
// fails (here its expectation) fails alone, and the others keep their
// order.
func TestPublishAsyncPipelinedFailuresMidStream(t *testing.T) {
	e := newEnv(t, WithBatch(4, 0), WithLanes(1), WithMaxInFlight(1024))
	e.stream(t, "ev", 1, "ev.>")
	const n = 1000
	futures := make([]*PubFuture, n)
	for i := range n {
		var opts []PubOption
		if i%10 == 7 {
			opts = append(opts, ExpectLastOffset(1e9))
		}
		futures[i] = e.c.PublishAsync(&Message{Subject: "ev.x", Payload: fmt.Appendf(nil, "%d", i)}, opts...)
	}
	if err := e.c.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	offset := int64(0)
	for i, f := range futures {
		ack, err := f.Wait(ctxT(t))
		if i%10 == 7 {
			if !errors.Is(err, ErrWrongLastOffset) {
				t.Fatalf("publish %d: %+v %v, want ErrWrongLastOffset", i, ack, err)
			}
			continue
		}
		if err != nil || ack.Offset != offset {
			t.Fatalf("publish %d: %+v %v, want offset %d", i, ack, err, offset)
		}
		offset++
	}
	l := e.c.pub.lanes[0]
	if len(l.slots) != 0 {
		t.Fatalf("%d batches still hold a slot after every future resolved", len(l.slots))
	}
}

// A server without PublishStream gets PublishBatch calls instead, and the
// publishes still succeed in order. (The route that hides PublishStream
// is an HTTP one, so the client talks HTTP.)
func TestPublishAsyncFallsBackToPublishBatch(t *testing.T) {
	var refused atomic.Int32
	addr := startAPI(t, api.Options{Routes: map[string]http.Handler{
		"POST /courier.v1.MessagingService/PublishStream": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			refused.Add(1)
			http.NotFound(w, nil)
		}),
	}})
	c, err := Connect(ctxT(t), addr, WithBatch(8, 0), WithLanes(1), WithHTTP())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateStream(ctxT(t), StreamConfig{Name: "ev", Subjects: []string{"ev.>"}}); err != nil {
		t.Fatal(err)
	}
	const n = 100
	futures := make([]*PubFuture, n)
	for i := range n {
		futures[i] = c.PublishAsync(&Message{Subject: "ev.x"})
	}
	for i, f := range futures {
		if ack, err := f.Wait(ctxT(t)); err != nil || ack.Offset != int64(i) {
			t.Fatalf("publish %d: %+v %v, want offset %d", i, ack, err, i)
		}
	}
	if refused.Load() != 1 {
		t.Fatalf("PublishStream tried %d times, want once", refused.Load())
	}
}

// startAPI starts a server whose API has options o, and returns its
// address.
func startAPI(t *testing.T, o api.Options) string {
	t.Helper()
	srv, err := server.New(server.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	a := api.New(srv.Broker, o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Shutdown(ctx)
		<-served
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// A batch the server refuses as a whole (over its read bound) ends the
// stream: that batch fails with the server's reason, and later publishes
// go out on a new stream.
func TestPublishAsyncStreamErrorThenRecovers(t *testing.T) {
	addr := startAPI(t, api.Options{MaxMessageBytes: 4096})
	c, err := Connect(ctxT(t), addr, WithLanes(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateStream(ctxT(t), StreamConfig{Name: "ev", Subjects: []string{"ev.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PublishAsync(&Message{Subject: "ev.x", Payload: []byte("a")}).Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	big := c.PublishAsync(&Message{Subject: "ev.x", Payload: make([]byte, 8192)})
	if _, err := big.Wait(ctxT(t)); !errors.Is(err, ErrRequestTooLarge) {
		t.Fatalf("oversized batch: %v, want ErrRequestTooLarge", err)
	}
	for i := range 3 {
		ack, err := c.PublishAsync(&Message{Subject: "ev.x", Payload: []byte("b")}).Wait(ctxT(t))
		if err != nil || ack.Offset != int64(1+i) {
			t.Fatalf("publish %d after the failed batch: %+v %v, want offset %d", i, ack, err, 1+i)
		}
	}
}
