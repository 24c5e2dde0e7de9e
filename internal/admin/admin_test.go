package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/vfs"
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

// failingScans is a metadata store whose scans fail on demand.
type failingScans struct {
	*broker.MemKV
	fail atomic.Bool
}

func (k *failingScans) Scan(prefix []byte, fn func(k, v []byte) error) error {
	if k.fail.Load() {
		return errors.New("disk on fire")
	}
	return k.MemKV.Scan(prefix, fn)
}

// TestAdminMetricsPartialFailure serves what it could collect when the
// Kafka groups' commits cannot be read, and logs why.
func TestAdminMetricsPartialFailure(t *testing.T) {
	kv := &failingScans{MemKV: broker.NewMemKV()}
	b, err := broker.Open(broker.Options{Dir: "data", FS: vfs.NewMem(), Meta: kv})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	createStreams(t, b, broker.StreamConfig{Name: "s", Subjects: []string{"s"}})
	publish(t, b, &broker.Message{Subject: "s", Payload: []byte("abc")})
	var logged strings.Builder
	lg := slog.New(slog.NewTextHandler(&logged, nil))
	srv := serve(t, Routes(Options{Broker: b, Logger: lg}))
	kv.fail.Store(true)
	got := scrape(t, srv)
	if bad := got.mismatch(samples{
		`courier_stream_messages_in_total{stream="s"}`:            1,
		`promhttp_metric_handler_errors_total{cause="gathering"}`: 0, // counted after this scrape's body
		`courier_stream_bytes_in_total{stream="s"}`:               3,
	}); len(bad) > 0 {
		t.Fatal(strings.Join(bad, "\n"))
	}
	if !strings.Contains(logged.String(), "disk on fire") {
		t.Fatalf("scrape error not logged: %q", logged.String())
	}
	if got := scrape(t, srv); got[`promhttp_metric_handler_errors_total{cause="gathering"}`] != 1 {
		t.Fatalf("gathering errors %v", got[`promhttp_metric_handler_errors_total{cause="gathering"}`])
	}
}
