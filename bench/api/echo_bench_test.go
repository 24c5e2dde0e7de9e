package api

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/courier-mq/courier/bench/core/harness"
)

// BenchmarkEchoRoundTrip is the floor under the ping-pong benchmarks: a
// 128 B echo over loopback, paced like them (harness.PaceSpin), through
// a plain TCP connection and through one bidirectional h2c stream of
// net/http (server and client in this process). A Courier request/reply
// crosses the API twice, so twice the h2c figure is what HTTP/2 alone
// costs it.
func BenchmarkEchoRoundTrip(b *testing.B) {
	b.Run("transport=tcp", func(b *testing.B) {
		ln := listen(b)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			echo(c, c)
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		echoBench(b, c, c)
	})
	b.Run("transport=h2c", func(b *testing.B) {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		srv := &http.Server{Protocols: &p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			echo(r.Body, flushWriter{w})
		})}
		ln := listen(b)
		go srv.Serve(ln)
		defer srv.Close()
		tr := &http.Transport{Protocols: &p}
		defer tr.CloseIdleConnections()
		pr, pw := io.Pipe()
		defer pw.Close()
		req, err := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/", pr)
		if err != nil {
			b.Fatal(err)
		}
		res, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		echoBench(b, res.Body, pw)
	})
}

func listen(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	return ln
}

// echo writes back each 128 B read until r ends.
func echo(r io.Reader, w io.Writer) {
	buf := make([]byte, 128)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		if _, err := w.Write(buf); err != nil {
			return
		}
	}
}

type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.w.(http.Flusher).Flush()
	return n, err
}

func echoBench(b *testing.B, r io.Reader, w io.Writer) {
	got := make([]byte, 128)
	run, err := harness.PingPong(b.N, harness.PingPongRate, 128, harness.PaceSpin, func(p []byte) error {
		if _, err := w.Write(p); err != nil {
			return err
		}
		_, err := io.ReadFull(r, got)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	harness.ReportLatency(b, "", run.Lat)
}

// BenchmarkSleepOvershoot reports how long time.Sleep(300µs) takes here:
// why the ping-pong benchmarks do not pace with plain sleeps.
func BenchmarkSleepOvershoot(b *testing.B) {
	lat := make([]time.Duration, b.N)
	for i := range b.N {
		t0 := time.Now()
		time.Sleep(300 * time.Microsecond)
		lat[i] = time.Since(t0)
	}
	harness.ReportLatency(b, "", lat)
}
