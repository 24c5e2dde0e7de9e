package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var (
	buildOnce sync.Once
	binDir    string
	binErr    error
)

// courierBinary builds the courier binary once for the package's tests
// (TestMain removes it).
func courierBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "courier-bin"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "courier"), ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{err, string(out)}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "courier")
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "build: " + e.err.Error() + "\n" + e.out }

// served is a running `courier serve` process and where it listens.
type served struct {
	cmd        *exec.Cmd
	api, kafka string
	lines      chan string
}

// startServe runs `courier serve` on dir with the given listener flags
// and waits for the lines naming its listeners. It is stopped with
// SIGTERM at the end of the test, and must exit cleanly.
func startServe(t *testing.T, dir string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(courierBinary(t), append([]string{"serve", "--data", dir}, args...)...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, lines: make(chan string, 100)}
	go scanLines(stdout, s.lines)
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("courier serve did not exit cleanly: %v", err)
		}
	})
	// Read up to "running", printed once every listener is up (and
	// /readyz says so).
	for {
		line := nextLine(t, s.lines, "courier: running")
		if a, ok := strings.CutPrefix(line, "courier: api listening on "); ok {
			s.api = a
		} else if a, ok := strings.CutPrefix(line, "courier: kafka listening on "); ok {
			s.kafka = a
		} else if strings.HasPrefix(line, "courier: running") {
			return s
		}
	}
}

// scanLines sends each line of r to lines until r ends.
func scanLines(r io.Reader, lines chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case lines <- sc.Text():
		default: // nobody is reading any more
		}
	}
	close(lines)
}

// nextLine returns the next line, failing the test after 20 s or at the
// end of the output.
func nextLine(t *testing.T, lines <-chan string, waitingFor string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("output ended before %q", waitingFor)
		}
		return l
	case <-time.After(20 * time.Second):
		t.Fatalf("no %q line", waitingFor)
	}
	return ""
}

// TestCLIBinaryServesKafka runs `courier serve` as the README's first
// command does (with a temporary data folder and an ephemeral Kafka port),
// produces and consumes through it with a Kafka client, and stops it with
// SIGTERM.
func TestCLIBinaryServesKafka(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "data"), "--kafka-addr", "127.0.0.1:0", "--api-addr", "off")
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafka), kgo.ConsumeTopics("cli"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "cli"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	rec := kgo.Record{Topic: "cli", Value: []byte("hello")}
	if err := cl.ProduceSync(ctx, &rec).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "hello" {
		t.Fatalf("consumed %v", recs)
	}
}
