package api

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
)

// Streams flush lazily. The Connect runtime flushes the response after
// every message it sends, which costs a write system call per message. A
// streaming handler instead holds flushes while it has more to send at
// once, and flushes when it is about to wait: a burst leaves in a few
// large writes, and a lone message leaves at once.

// flusher is a response writer whose Flush can be held.
type flusher struct {
	http.ResponseWriter
	f       http.Flusher
	hold    atomic.Bool
	pending atomic.Bool // a Flush was held
}

// Flush flushes now, or remembers to while held.
func (w *flusher) Flush() {
	if w.hold.Load() {
		w.pending.Store(true)
		return
	}
	w.f.Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *flusher) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type flusherKey struct{}

// lazyFlush gives the streaming RPCs (Subscribe, Consume) a flusher that
// their handlers control through the request context.
func lazyFlush(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok || !isStreamingRPC(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		fw := &flusher{ResponseWriter: w, f: f}
		next.ServeHTTP(fw, r.WithContext(context.WithValue(r.Context(), flusherKey{}, fw)))
	})
}

func isStreamingRPC(path string) bool {
	rpc, ok := strings.CutPrefix(path, "/courier.v1.MessagingService/")
	return ok && (rpc == "Subscribe" || rpc == "Consume")
}

// flushControl is a handler's hold on its stream's flushes; the zero of
// it (no flusher in the context: another transport) does nothing.
type flushControl struct{ w *flusher }

func flushControlOf(ctx context.Context) flushControl {
	w, _ := ctx.Value(flusherKey{}).(*flusher)
	return flushControl{w}
}

// hold defers flushes until flush or release.
func (c flushControl) hold() {
	if c.w != nil {
		c.w.hold.Store(true)
	}
}

// flush sends what was held; the hold stays.
func (c flushControl) flush() {
	if c.w != nil && c.w.pending.Swap(false) {
		c.w.f.Flush()
	}
}

// release ends the hold and sends what was held.
func (c flushControl) release() {
	if c.w != nil {
		c.w.hold.Store(false)
		c.flush()
	}
}
