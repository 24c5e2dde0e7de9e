package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cli runs courier client commands against one server as real processes.
type cli struct {
	t      *testing.T
	bin    string
	server string
}

// run runs courier with args (and --server) and stdin, and returns its
// stdout, failing the test unless it exits 0.
func (c *cli) run(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.exec(stdin, args...)
	if code != 0 {
		c.t.Fatalf("courier %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// exec runs courier; one that runs past 20 s is stopped with SIGQUIT so
// that its goroutines show in the failure.
func (c *cli) exec(stdin string, args ...string) (string, string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(args, "--server", c.server)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

// json runs a command with --json and decodes its output into v.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.run("", append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("courier %s: %v in %q", strings.Join(args, " "), err, out)
	}
}

// jsonLines decodes JSON-lines output.
func jsonLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var vs []T
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var v T
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("%v in %q", err, l)
		}
		vs = append(vs, v)
	}
	return vs
}

// TestCLIEndToEnd starts `courier serve` and runs every client command
// against it as a real process.
func TestCLIEndToEnd(t *testing.T) {
	s := startServe(t, t.TempDir(), "--api-addr", "127.0.0.1:0", "--kafka-addr", "127.0.0.1:0")
	c := &cli{t: t, bin: courierBinary(t), server: s.addr["api"]}
	for path, want := range map[string]string{"/readyz": "ready", "/metrics": "courier_connections"} {
		if body := httpGet(t, "http://"+s.addr["api"]+path); !strings.Contains(body, want) {
			t.Fatalf("GET %s: %.300s", path, body)
		}
	}
	for _, step := range []struct {
		name string
		fn   func(*cli, *testing.T)
	}{{"streams", (*cli).streams}, {"pubsub", (*cli).pubSub}, {"groups", (*cli).groups},
		{"deadletters", (*cli).deadLetters}, {"reqreply", (*cli).reqReply}, {"bench", (*cli).bench}, {"cleanup", (*cli).cleanup}} {
		if !t.Run(step.name, func(t *testing.T) { sc := *c; sc.t = t; step.fn(&sc, t) }) {
			return
		}
	}
}

func (c *cli) streams(t *testing.T) {
	var st streamJSON
	c.json(&st, "stream", "add", "orders", "--subjects", "orders.>", "--partitions", "2")
	if st.Name != "orders" || st.Partitions != 2 || !slices.Equal(st.Subjects, []string{"orders.>"}) {
		t.Fatalf("stream add: %+v", st)
	}
	c.run("", "stream", "add", "dlq", "--subjects", "dead.>")
	c.json(&st, "stream", "edit", "orders", "--max-msgs", "1000", "--max-age", "1h")
	if st.MaxMsgs != 1000 || st.MaxAge != "1h0m0s" || st.Partitions != 2 {
		t.Fatalf("stream edit: %+v", st)
	}
	var ls []streamJSON
	c.json(&ls, "stream", "ls")
	if len(ls) != 2 {
		t.Fatalf("stream ls: %+v", ls)
	}
	if out := c.run("", "stream", "ls"); !strings.Contains(out, "NAME") || !strings.Contains(out, "orders.>") {
		t.Fatalf("stream ls table:\n%s", out)
	}
	_, errOut, code := c.exec("", "stream", "info", "nosuch")
	if code != 1 || !strings.Contains(errOut, "nosuch") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("unknown stream: exit %d, %q", code, errOut)
	}
}

func (c *cli) pubSub(t *testing.T) {
	acks := jsonLines[pubAckJSON](t, c.run("a\nb\nc\n", "pub", "orders.new", "--count", "3", "--json"))
	if len(acks) != 3 || acks[0].Stream != "orders" {
		t.Fatalf("pub --count 3: %+v", acks)
	}
	var ack pubAckJSON
	c.json(&ack, "pub", "orders.one", "hello", "--key", "K", "-H", "trace=1", "-H", "x=y=z")
	if ack.Stream != "orders" {
		t.Fatalf("pub: %+v", ack)
	}
	msgs := jsonLines[messageJSON](t, c.run("", "sub", "orders.>", "--from", "earliest", "--count", "4", "--json"))
	var payloads []string
	for _, m := range msgs {
		payloads = append(payloads, m.Payload)
		if m.Payload == "hello" && (m.Key != "K" || len(m.Headers) != 2 || m.Headers[1] != (headerJSON{"x", "y=z"})) {
			t.Fatalf("sub: key and headers of %+v", m)
		}
	}
	slices.Sort(payloads)
	if !slices.Equal(payloads, []string{"a", "b", "c", "hello"}) {
		t.Fatalf("sub --from earliest: %v", payloads)
	}
	var st streamJSON
	c.json(&st, "stream", "info", "orders")
	if st.Messages != 4 {
		t.Fatalf("stream info: %+v", st)
	}
}

func (c *cli) groups(t *testing.T) {
	var g groupJSON
	c.json(&g, "group", "add", "orders", "workers", "--ack-wait", "30s")
	if g.Name != "workers" || g.Stream != "orders" || g.AckWait != "30s" {
		t.Fatalf("group add: %+v", g)
	}
	msgs := jsonLines[messageJSON](t, c.run("", "consume", "orders", "workers", "--count", "4", "--json"))
	if len(msgs) != 4 {
		t.Fatalf("consume: %+v", msgs)
	}
	if out := c.run("", "consume", "orders", "workers", "--idle", "300ms"); out != "" {
		t.Fatalf("consume --idle of an empty group printed %q", out)
	}
	var gs []groupJSON
	c.json(&gs, "group", "ls", "orders")
	if len(gs) != 1 || gs[0].Name != "workers" {
		t.Fatalf("group ls: %+v", gs)
	}
	c.json(&g, "group", "info", "orders", "workers")
	if g.Acked != 4 || g.Lag != 0 {
		t.Fatalf("group info after acking 4: %+v", g)
	}
}

func (c *cli) deadLetters(t *testing.T) {
	c.run("", "group", "add", "orders", "failing", "--max-deliveries", "1", "--dead-letter", "dead.orders")
	c.run("", "consume", "orders", "failing", "--count", "4", "--nack")
	var dls []deadLetterJSON
	for deadline := time.Now().Add(5 * time.Second); len(dls) < 4 && time.Now().Before(deadline); {
		c.json(&dls, "dlq", "ls", "dlq")
	}
	if len(dls) != 4 {
		t.Fatalf("dlq ls: %+v", dls)
	}
	for _, d := range dls {
		if !strings.HasPrefix(d.OriginalSubject, "orders.") || d.Reason == "" || d.DeadDeliveries != 1 || d.Group != "failing" {
			t.Fatalf("dead letter: %+v", d)
		}
	}
	if out := c.run("", "dlq", "ls", "dlq"); !strings.Contains(out, "REASON") || !strings.Contains(out, "orders.one") {
		t.Fatalf("dlq ls table:\n%s", out)
	}
	var res map[string]int64
	c.json(&res, "dlq", "redrive", "dlq")
	if res["moved"] != 4 {
		t.Fatalf("redrive: %v", res)
	}
	var st streamJSON
	c.json(&st, "stream", "info", "orders")
	if st.Messages != 8 {
		t.Fatalf("orders after redrive: %d messages, want 8", st.Messages)
	}
}

func (c *cli) reqReply(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		req, want string
	}{
		{[]string{"reply", "svc.echo", "--count", "1"}, "ping", "ping"},
		{[]string{"reply", "svc.upper", "--count", "1", "--command", "tr a-z A-Z"}, "hello", "HELLO"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, c.bin, append(tc.args, "--server", c.server)...)
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
		cmd.Stderr = os.Stderr
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 10)
		go scanLines(stdout, lines)
		if l := nextLine(t, lines, "answering requests"); !strings.HasPrefix(l, "courier: answering requests on ") {
			t.Fatalf("reply said %q", l)
		}
		if got := c.run("", "req", tc.args[1], tc.req); got != tc.want+"\n" {
			t.Fatalf("req %s: %q, want %q", tc.args[1], got, tc.want)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("reply --count 1: %v", err)
		}
	}
	// A captured subject nobody answers times out; an uncaptured one
	// nobody subscribes to fails at once.
	for subj, want := range map[string]string{
		"orders.nobody": "courier: no reply to orders.nobody within 300ms\n",
		"svc.nobody":    "courier: no responders: nobody subscribes to \"svc.nobody\"\n",
	} {
		if _, errOut, code := c.exec("", "req", subj, "x", "--timeout", "300ms"); code != 1 || errOut != want {
			t.Fatalf("req %s: exit %d, %q; want %q", subj, code, errOut, want)
		}
	}
}

func (c *cli) bench(t *testing.T) {
	var r benchResult
	c.json(&r, "bench", "--stream", "b", "--subject", "b.x", "--msgs", "300", "--pubs", "2", "--subs", "2", "--size", "64")
	if r.Published != 300 || r.Received != 300 || r.PubAck.Count != 300 || r.EndToEnd.Count != 300 || r.PubMsgsPerSec <= 0 ||
		r.EndToEnd.P50 <= 0 || r.EndToEnd.Max < r.EndToEnd.P99 {
		t.Fatalf("bench: %+v", r)
	}
	c.json(&r, "bench", "--stream", "b", "--subject", "b.x", "--msgs", "100", "--subs", "2", "--plain")
	if r.Published != 100 || r.Received != 200 {
		t.Fatalf("bench --plain: %+v", r)
	}
	r = benchResult{}
	c.json(&r, "bench", "--stream", "b", "--subject", "b.x", "--duration", "200ms", "--rate", "500", "--in-flight", "8")
	if r.Published == 0 || r.Published > 150 || r.Received != r.Published || r.Error != "" {
		t.Fatalf("bench --duration: %+v", r)
	}
}

func (c *cli) cleanup(t *testing.T) {
	for _, g := range []string{"workers", "failing"} {
		c.run("", "group", "rm", "orders", g)
	}
	c.run("", "group", "rm", "b", "bench")
	c.run("", "stream", "purge", "orders")
	var st streamJSON
	c.json(&st, "stream", "info", "orders")
	if st.Messages != 0 {
		t.Fatalf("after purge: %+v", st)
	}
	for _, s := range []string{"orders", "dlq", "b"} {
		c.run("", "stream", "rm", s)
	}
	var ls []streamJSON
	c.json(&ls, "stream", "ls")
	if len(ls) != 0 {
		t.Fatalf("streams left: %+v", ls)
	}
}

// TestCLINothingListens checks that a wrong --server says so in one line
// and exits 1.
func TestCLINothingListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := &cli{t: t, bin: courierBinary(t), server: addr}
	_, errOut, code := c.exec("", "stream", "ls")
	if code != 1 || errOut != "courier: nothing listens at "+addr+" (is courier serve running? --server or COURIER_SERVER say where)\n" {
		t.Fatalf("exit %d: %q", code, errOut)
	}
}

// httpGet returns the body of a 200 answer to GET url.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	res, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, res.Status, b)
	}
	return string(b)
}
