package client

import (
	"errors"
	"testing"
	"time"
)

// TestSubscribeRefusedFailsAtOnce: a pattern the server refuses fails
// Subscribe itself with the server's error, not the first Next; the
// connection carries on.
func TestSubscribeRefusedFailsAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	for _, pattern := range []string{"a..b", "a.>.b", ""} {
		sub, err := e.c.Subscribe(ctx, pattern, StartEarliest())
		var ce *Error
		if sub != nil || !errors.As(err, &ce) || !errors.Is(err, ErrInvalid) || ce.Code != "invalid_argument" {
			t.Fatalf("Subscribe(%q) = %v, %v; want no subscription and ErrInvalid", pattern, sub, err)
		}
	}
	sub, err := e.c.Subscribe(ctx, "ok.*", Start{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := e.c.Publish(ctx, &Message{Subject: "ok.1", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	m, err := sub.Next(ctx)
	if err != nil || string(m.Payload) != "x" {
		t.Fatalf("Next after refused subscriptions: %v, %v", m, err)
	}
}

// TestSubscribeRefusedIsNotRetried: a refusal is final, so Subscribe
// answers at once even with retries configured.
func TestSubscribeRefusedIsNotRetried(t *testing.T) {
	e := newEnv(t, WithRetries(5, time.Minute))
	if _, err := e.c.Subscribe(ctxT(t), "a..b", Start{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Subscribe: %v, want ErrInvalid", err)
	}
}
