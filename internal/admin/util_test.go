package admin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/vfs"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// openBroker opens a broker on an in-memory filesystem.
func openBroker(t *testing.T) *broker.Broker {
	t.Helper()
	b, err := broker.Open(broker.Options{Dir: "data", FS: vfs.NewMem(), Meta: broker.NewMemKV()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// serve mounts routes on a test server, as the API server does.
func serve(t *testing.T, routes map[string]http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get returns a path's status and body.
func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// samples are scraped values by series: name{label="value",...} with the
// labels sorted; a histogram gives name_count, name_sum and name_bucket.
type samples map[string]float64

// scrape fetches /metrics and parses the text format.
func scrape(t *testing.T, srv *httptest.Server) samples {
	t.Helper()
	code, body := get(t, srv, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	out := samples{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(ls)
			key := name + "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count{"+strings.Join(ls, ",")+"}"] = float64(m.Histogram.GetSampleCount())
				out[name+"_sum{"+strings.Join(ls, ",")+"}"] = m.Histogram.GetSampleSum()
			case m.Untyped != nil:
				out[key] = m.Untyped.GetValue()
			}
		}
	}
	return out
}

// mismatch lists the series of want whose scraped value differs.
func (s samples) mismatch(want samples) []string {
	var bad []string
	for k, v := range want {
		got, ok := s[k]
		if !ok {
			bad = append(bad, fmt.Sprintf("%s missing (want %v)", k, v))
		} else if got != v {
			bad = append(bad, fmt.Sprintf("%s = %v, want %v", k, got, v))
		}
	}
	slices.Sort(bad)
	return bad
}

// scrapeUntil scrapes until every series of want has its value, or fails
// after a deadline. Counters of deliveries move just after the consumer
// received them, so a scrape may briefly lag what the test saw.
func scrapeUntil(t *testing.T, srv *httptest.Server, want samples) samples {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := scrape(t, srv)
		bad := got.mismatch(want)
		if len(bad) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics differ:\n  %s", strings.Join(bad, "\n  "))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// receive takes the next delivery of a member.
func receive(t *testing.T, m *broker.Member) *broker.Delivery {
	t.Helper()
	select {
	case d := <-m.C():
		return d
	case <-m.Done():
		t.Fatalf("member ended: %v", m.Err())
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery within 5s")
	}
	return nil
}

// size is what a message counts for in the byte counters.
func size(m *broker.Message) int {
	n := len(m.Key) + len(m.Payload)
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

func publish(t *testing.T, b *broker.Broker, m *broker.Message) broker.PubAck {
	t.Helper()
	ack, err := b.Publish(context.Background(), m, broker.Expect{})
	if err != nil {
		t.Fatalf("publish %s: %v", m.Subject, err)
	}
	return ack
}
