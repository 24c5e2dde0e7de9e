package client

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

func TestClientConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Connect(ctxT(t), addr)
	if err == nil {
		t.Fatal("Connect to a closed port succeeded")
	}
	if want := "nothing listens at " + addr; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("error %v is not ErrUnavailable", err)
	}
}

func TestClientPublishAndErrors(t *testing.T) {
	e := newEnv(t)
	e.stream(t, "orders", 1, "orders.>")
	ctx := ctxT(t)
	for i := range 3 {
		ack, err := e.c.Publish(ctx, &Message{Subject: "orders.eu", Payload: fmt.Appendf(nil, "m%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if ack.Stream != "orders" || ack.Offset != int64(i) {
			t.Fatalf("ack %+v, want orders offset %d", ack, i)
		}
	}
	_, err := e.c.Publish(ctx, &Message{Subject: "orders.eu"}, ExpectLastOffset(0))
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrWrongLastOffset) || ce.LastOffset != 2 {
		t.Fatalf("publish with a wrong expectation: %v (%+v), want wrong_last_offset with last offset 2", err, ce)
	}
	_, err = e.c.Stream(ctx, "nope")
	if !errors.Is(err, ErrStreamNotFound) || errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("Stream(nope) = %v, want stream_not_found", err)
	}
	if !errors.As(err, &ce) || ce.Code != "not_found" || ce.Reason != "stream_not_found" {
		t.Fatalf("error fields %+v", ce)
	}
	_, err = e.c.CreateStream(ctx, StreamConfig{Name: "orders", Subjects: []string{"x.>"}})
	if !errors.Is(err, ErrStreamExists) {
		t.Fatalf("creating a stream twice: %v, want stream_exists", err)
	}
	si, err := e.c.Stream(ctx, "orders")
	if err != nil || si.Messages() != 3 {
		t.Fatalf("Stream(orders) = %+v, %v; want 3 messages", si, err)
	}
}
