package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options say what the endpoints report on.
type Options struct {
	Broker *broker.Broker // required
	// Ready reports why the process is not ready to serve, for example a
	// listener not accepting yet or shutting down; nil means only the
	// broker is checked.
	Ready func() error
	// Conns gives each listener's open connections ("api", "kafka",
	// "amqp", "mqtt", "stomp"), as courier_connections{listener}.
	Conns map[string]func() int64
	// Logger gets the errors of a scrape (a metric that could not be
	// collected; the others are still served). Default: discarded.
	Logger *slog.Logger
}

// Routes returns the handlers of /healthz, /readyz and /metrics. Each call
// has a registry of its own.
func Routes(o Options) map[string]http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCollector(o.Broker, o.Conns),
	)
	return map[string]http.Handler{
		"/healthz": http.HandlerFunc(healthz),
		"/readyz":  readyz(o),
		"/metrics": promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorHandling: promhttp.ContinueOnError,
			ErrorLog:      scrapeLog{o.Logger},
			Registry:      reg, // promhttp_metric_handler_errors_total
		}),
	}
}

// scrapeLog passes promhttp's errors to a slog.Logger.
type scrapeLog struct{ lg *slog.Logger }

func (s scrapeLog) Println(v ...any) {
	if s.lg != nil {
		s.lg.Warn("metrics scrape", "err", fmt.Sprint(v...))
	}
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	plain(w, http.StatusOK, "ok")
}

func readyz(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := notReady(o); err != nil {
			plain(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		plain(w, http.StatusOK, "ready")
	})
}

// notReady says why the process is not ready, or nil.
func notReady(o Options) error {
	switch {
	case o.Broker == nil:
		return errors.New("no broker")
	case o.Broker.Closed():
		return errors.New("broker closed")
	}
	if o.Ready != nil {
		return o.Ready()
	}
	return nil
}

func plain(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, body)
}
