package admin

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestAdminHealthz answers ok while the process serves, even when not
// ready.
func TestAdminHealthz(t *testing.T) {
	b := openBroker(t)
	srv := serve(t, Routes(Options{Broker: b, Ready: func() error { return errors.New("starting") }}))
	if code, body := get(t, srv, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
}

// TestAdminReadyzFlips follows Ready and the broker: 200 when both are
// fine, 503 with the reason otherwise.
func TestAdminReadyzFlips(t *testing.T) {
	b := openBroker(t)
	var why atomic.Pointer[error]
	ready := func() error {
		if e := why.Load(); e != nil {
			return *e
		}
		return nil
	}
	srv := serve(t, Routes(Options{Broker: b, Ready: ready}))
	if code, body := get(t, srv, "/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("ready: %d %q", code, body)
	}
	down := errors.New("kafka listener not accepting")
	why.Store(&down)
	if code, body := get(t, srv, "/readyz"); code != http.StatusServiceUnavailable || body != "not ready: kafka listener not accepting\n" {
		t.Fatalf("listener down: %d %q", code, body)
	}
	why.Store(nil)
	if code, _ := get(t, srv, "/readyz"); code != http.StatusOK {
		t.Fatalf("listener back: %d", code)
	}
	b.Close()
	if code, body := get(t, srv, "/readyz"); code != http.StatusServiceUnavailable || body != "not ready: broker closed\n" {
		t.Fatalf("broker closed: %d %q", code, body)
	}
	if code, _ := get(t, srv, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after close: %d", code)
	}
	if code, _ := get(t, srv, "/metrics"); code != http.StatusOK {
		t.Fatalf("/metrics after close: %d", code)
	}
}

// TestAdminMetricsRuntime serves the Go and process collectors and the
// connections of each listener.
func TestAdminMetricsRuntime(t *testing.T) {
	b := openBroker(t)
	srv := serve(t, Routes(Options{Broker: b, Conns: map[string]func() int64{
		"kafka": func() int64 { return 3 },
		"api":   func() int64 { return 1 },
	}}))
	got := scrape(t, srv)
	if bad := got.mismatch(samples{
		`courier_connections{listener="kafka"}`: 3,
		`courier_connections{listener="api"}`:   1,
	}); len(bad) > 0 {
		t.Fatal(strings.Join(bad, "\n"))
	}
	for _, name := range []string{"go_goroutines{}", "process_cpu_seconds_total{}", "courier_fsync_seconds_count{}"} {
		if _, ok := got[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}
