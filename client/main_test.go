package client

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// overHTTPEnv set makes this run of the tests talk HTTP (forceHTTP).
const overHTTPEnv = "COURIER_CLIENT_TESTS_OVER_HTTP"

func TestMain(m *testing.M) {
	forceHTTP = os.Getenv(overHTTPEnv) != ""
	goleak.VerifyTestMain(m)
}

// TestEverythingOverHTTP runs this package's tests and examples again,
// in a child process, with every client talking Connect over HTTP/2, as
// clients do against a server without wire (the other run uses wire).
func TestEverythingOverHTTP(t *testing.T) {
	if forceHTTP {
		t.Skip("this run is the one over HTTP")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^(Test|Example)", "-test.skip", "^TestEverythingOverHTTP$", "-test.count=1")
	cmd.Env = append(os.Environ(), overHTTPEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the tests over HTTP failed: %v\n%s", err, out)
	}
}

// env is a server and a client connected to it.
type env struct {
	ts *testServer
	c  *Client
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	ts := startServer(t, t.TempDir(), "127.0.0.1:0")
	t.Cleanup(ts.stop)
	c, err := Connect(ctxT(t), ts.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{ts: ts, c: c}
}

// ctxT is the test's context, bounded so that a hang fails the test.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (e *env) stream(t *testing.T, name string, partitions int, subjects ...string) {
	t.Helper()
	if _, err := e.c.CreateStream(ctxT(t), StreamConfig{Name: name, Subjects: subjects, Partitions: partitions}); err != nil {
		t.Fatal(err)
	}
}

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
