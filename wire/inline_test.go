package wire

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"connectrpc.com/connect/v2"
)

// inlineLog is an inbox whose inline function records what it took and
// refuses messages that start with "no".
type inlineLog struct {
	q     *inbox
	mu    sync.Mutex
	taken []string
}

func newInlineLog() *inlineLog {
	l := &inlineLog{q: newInbox(newConnFlow(1<<30, 1<<30, func(int) {}))}
	l.q.setInline(func(p []byte) bool {
		if strings.HasPrefix(string(p), "no") {
			return false
		}
		l.mu.Lock()
		l.taken = append(l.taken, string(p))
		l.mu.Unlock()
		return true
	})
	return l
}

func (l *inlineLog) push(s string) { l.q.push(append(getMsgBuf(len(s))[:0], s...)) }

func (l *inlineLog) took() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.taken, ",")
}

func (l *inlineLog) pop(t *testing.T, want string) {
	t.Helper()
	p, err := l.q.pop()
	if err != nil || string(p) != want {
		t.Fatalf("pop = %q, %v; want %q", p, err, want)
	}
}

// A refused message, and every message after it, waits for the
// stream's reader, in order, until the reader comes back for more with
// nothing queued; then messages are taken inline again.
func TestInlineKeepsOrderAroundRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newInlineLog()
		l.push("a")
		l.push("no-b")
		l.push("c") // queued behind no-b, though the function would take it
		l.pop(t, "no-b")
		l.push("d") // queued: c is, and the reader may still be handling no-b
		l.pop(t, "c")
		l.pop(t, "d")
		l.push("e") // nothing is queued, but the reader may still be handling d
		l.pop(t, "e")
		got := make(chan string, 1)
		go func() { p, _ := l.q.pop(); got <- string(p) }()
		synctest.Wait() // the reader waits for more, with nothing queued
		l.push("f")
		l.push("no-g")
		synctest.Wait()
		if s := <-got; s != "no-g" {
			t.Fatalf("reader got %q, want no-g", s)
		}
		if s := l.took(); s != "a,f" {
			t.Fatalf("taken inline: %s; want a,f", s)
		}
	})
}

// Ending inline taking waits for a call under way, and messages after
// it queue.
func TestInlineStopWaitsForTheCallUnderWay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newInbox(newConnFlow(1<<30, 1<<30, func(int) {}))
		release := make(chan struct{})
		q.setInline(func([]byte) bool { <-release; return true })
		go q.push([]byte("slow"))
		synctest.Wait()
		stopped := make(chan struct{})
		go func() { q.setInline(nil); close(stopped) }()
		synctest.Wait()
		select {
		case <-stopped:
			t.Fatal("setInline(nil) returned while a call was under way")
		default:
		}
		close(release)
		synctest.Wait()
		select {
		case <-stopped:
		default:
			t.Fatal("setInline(nil) still waits after the call ended")
		}
		q.push([]byte("queued"))
		if p, err := q.pop(); err != nil || string(p) != "queued" {
			t.Fatalf("pop = %q, %v", p, err)
		}
	})
}

// An ended stream takes nothing inline: what arrives after its end is
// dropped, as without inline taking.
func TestInlineNotAfterEnd(t *testing.T) {
	l := newInlineLog()
	l.q.finish(io.EOF, false)
	l.push("late")
	if s := l.took(); s != "" {
		t.Fatalf("taken after the end: %s", s)
	}
	if _, err := l.q.pop(); err != io.EOF {
		t.Fatalf("pop = %v, want EOF", err)
	}
}

var specInline = connect.Spec{Procedure: "/t.S/Inline", StreamType: connect.StreamTypeBidi}

// inlineServer serves Inline: its handler takes messages inline and
// answers each with "inline:" and the message, except those starting
// with "no", which it answers from Receive with "recv:".
func inlineServer(t *testing.T) *testServer {
	ts := startServer(t, 0)
	ts.rpc.Register(connect.Method{Spec: specInline, Handler: func(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
		stop, ok := Inline(ctx, func(decode func(any) error) bool {
			var s string
			if err := decode(&s); err != nil || strings.HasPrefix(s, "no") {
				return false
			}
			out := "inline:" + s
			return st.Send(&out) == nil
		})
		if !ok {
			return errors.New("not a wire stream")
		}
		defer stop()
		return echo(st, "recv:")
	}})
	return ts
}

// Over a real connection: a server stream takes its messages inline,
// gives refused ones to Receive, and gives the client its credit back
// for what it took (more than a window goes through).
func TestServerInline(t *testing.T) {
	ts := inlineServer(t)
	cc, _ := ts.client(t, TransportOptions{})
	st, err := cc.CallClientStream(ctxT(t), specInline)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	send := func(in string) string {
		t.Helper()
		if err := st.Send(&in); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := st.Receive(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	exchange := func(in, want string) {
		t.Helper()
		if got := send(in); got != want {
			t.Fatalf("sent %.20q: got %.20q; want %.20q", in, got, want)
		}
	}
	// A message may reach Receive while the handler has not yet asked
	// for inline taking, or has not come back to Receive after a refused
	// message (it answers before it does); soon they go inline.
	untilInline := func() {
		t.Helper()
		for i := 0; send("probe") != "inline:probe"; i++ {
			if i == 1000 {
				t.Fatal("messages still go to Receive after 1000 round trips")
			}
		}
	}
	untilInline()
	exchange("no-b", "recv:no-b")
	untilInline()
	big := strings.Repeat("x", 64<<10)
	for range 2 * streamWindow / len(big) {
		exchange(big, "inline:"+big)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := st.Receive(&s); !errors.Is(err, io.EOF) {
		t.Fatalf("after close-send: %q, %v", s, err)
	}
}

// A client stream opened with WithInline hands its responses to the
// function; refused ones, and the end, come from Receive.
func TestClientInline(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	took := make(chan string, 64)
	ctx := WithInline(ctxT(t), func(decode func(any) error) bool {
		var s string
		if err := decode(&s); err != nil || strings.HasPrefix(s, "no") {
			return false
		}
		took <- s
		return true
	})
	st, err := cc.CallClientStream(ctx, specEcho)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	big := strings.Repeat("y", 64<<10)
	n := 2 * streamWindow / len(big)
	for range n {
		if err := st.Send(&big); err != nil {
			t.Fatal(err)
		}
		if s := <-took; s != big {
			t.Fatalf("took %.20q", s)
		}
	}
	m := "no-1"
	if err := st.Send(&m); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := st.Receive(&s); err != nil || s != "no-1" {
		t.Fatalf("receive = %q, %v; want no-1", s, err)
	}
	if err := st.Receive(&s); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %q, %v", s, err)
	}
}
