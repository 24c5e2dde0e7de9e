package client

import (
	"context"
	"io"
	"net/http"
	"sync"
)

// The HTTP transport tells a waiting call when the server's response
// headers arrived: a Courier server sends them once it has set a stream
// up (a subscription is live), so Subscribe can return only then. A
// subscription's headers carry subscribedHeader when it is live; without
// it the server refused the subscription and the body holds the error.

type headersKey struct{}

// subscribedHeader marks a live subscription's response headers (the
// server's internal/api/subscribe.go sets it).
const subscribedHeader = "Courier-Subscribed"

// headersSignal is closed when the response headers arrived or the
// request failed.
type headersSignal struct {
	once       sync.Once
	ch         chan struct{}
	err        error
	subscribed bool // the headers carry subscribedHeader
}

func withHeadersSignal(ctx context.Context) (context.Context, *headersSignal) {
	s := &headersSignal{ch: make(chan struct{})}
	return context.WithValue(ctx, headersKey{}, s), s
}

func (s *headersSignal) fire(res *http.Response, err error) {
	s.set(err == nil && res.Header.Get(subscribedHeader) != "", err)
}

// set records the outcome once and wakes the waiter.
func (s *headersSignal) set(subscribed bool, err error) {
	s.once.Do(func() {
		s.err, s.subscribed = err, subscribed
		close(s.ch)
	})
}

// notifyTransport fires the request's headers signal, if any, when its
// round trip returns, and sends a streaming call's messages whole.
type notifyTransport struct{ inner http.RoundTripper }

func (t notifyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if pr, ok := r.Body.(*io.PipeReader); ok { // a streaming call (envelope_body.go)
		r2 := *r
		r2.Body = &envelopeBody{r: pr}
		r = &r2
	}
	res, err := t.inner.RoundTrip(r)
	if s, ok := r.Context().Value(headersKey{}).(*headersSignal); ok {
		s.fire(res, err)
	}
	return res, err
}

// withNotify returns a copy of hc whose transport fires headers signals.
func withNotify(hc *http.Client) *http.Client {
	c := *hc
	inner := c.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	c.Transport = notifyTransport{inner: inner}
	return &c
}
