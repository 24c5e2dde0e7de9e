package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	cmd   *exec.Cmd
	addr  map[string]string // listener name → its address
	lines chan string
}

// startServe runs `courier serve` on dir with the given listener flags
// and waits for the lines naming its listeners. A listener that args do
// not place is turned off, so that no test binds a default port. It is
// stopped with SIGTERM at the end of the test, and must exit cleanly.
func startServe(t *testing.T, dir string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(courierBinary(t), append(append([]string{"serve", "--data", dir}, args...), listenersOff(args)...)...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, addr: map[string]string{}, lines: make(chan string, 100)}
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
		if name, a, ok := listeningLine(line); ok {
			s.addr[name] = a
		} else if strings.HasPrefix(line, "courier: running") {
			return s
		}
	}
}

// listeningLine reads "courier: NAME listening on ADDR".
func listeningLine(line string) (name, addr string, ok bool) {
	rest, ok := strings.CutPrefix(line, "courier: ")
	if !ok {
		return "", "", false
	}
	name, addr, ok = strings.Cut(rest, " listening on ")
	return name, addr, ok
}

// listenersOff turns off every listener that args do not place.
func listenersOff(args []string) []string {
	var off []string
	for _, name := range listenerNames {
		flag := "--" + name + "-addr"
		if !slices.ContainsFunc(args, func(a string) bool { return a == flag || strings.HasPrefix(a, flag+"=") }) {
			off = append(off, flag, "off")
		}
	}
	return off
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
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr["kafka"]), kgo.ConsumeTopics("cli"))
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
