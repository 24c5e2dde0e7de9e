package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
)

func TestUnaryCarriesHeadersAndTrailers(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	ctx, info := connect.NewClientContext(ctxT(t))
	info.RequestHeader().Set("Who", "test")
	req, res := "world", ""
	if err := cc.CallUnary(ctx, specUnary, &req, &res); err != nil {
		t.Fatal(err)
	}
	if res != "hello world from test" {
		t.Fatalf("response %q", res)
	}
	if got := info.ResponseHeader().Get("Greeting"); got != "hello" {
		t.Errorf("response header Greeting = %q", got)
	}
	if got := info.ResponseTrailer().Get("Done"); got != "yes" {
		t.Errorf("trailer Done = %q", got)
	}
	if info.Protocol != Protocol {
		t.Errorf("protocol %q", info.Protocol)
	}
}

func TestErrorsKeepCodeMessageAndDetails(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	req, res := "x", ""
	err := cc.CallUnary(ctxT(t), specFail, &req, &res)
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a connect error", err)
	}
	if ce.Code() != connect.CodeNotFound || ce.Message() != "no such thing" || !ce.IsRemote() {
		t.Fatalf("error %v (remote %v)", ce, ce.IsRemote())
	}
	if d := ce.Details(); len(d) != 1 || d[0].Type != "t.Info" || string(d[0].Value) != "\x01\x02" {
		t.Fatalf("details %+v", d)
	}
	err = cc.CallUnary(ctxT(t), specNone, &req, &res)
	if connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Fatalf("unknown procedure: %v", err)
	}
	bad := "bad request"
	err = cc.CallUnary(ctxT(t), specUnary, &bad, &res)
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "bad message") {
		t.Fatalf("undecodable request: %v", err)
	}
}

func TestManyStreamsShareOneConnection(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for s := range 8 {
		wg.Go(func() {
			st, err := cc.CallClientStream(ctxT(t), specEcho)
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			for i := range 500 {
				msg := fmt.Sprintf("s%d-%d", s, i)
				if err := st.Send(&msg); err != nil {
					errs <- err
					return
				}
				var got string
				if err := st.Receive(&got); err != nil || got != msg {
					errs <- fmt.Errorf("stream %d message %d: got %q, %v", s, i, got, err)
					return
				}
			}
			if err := st.CloseSend(); err != nil {
				errs <- err
				return
			}
			var got string
			if err := st.Receive(&got); !errors.Is(err, io.EOF) {
				errs <- fmt.Errorf("stream %d: end %v", s, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ts.mu.Lock()
	n := len(ts.conns)
	ts.mu.Unlock()
	if n != 1 {
		t.Errorf("%d server connections, want 1", n)
	}
}

func TestSlowReaderHoldsBackItsStreamOnly(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	// 24 MiB through the race detector on a loaded machine can take
	// longer than ctxT's 10 s.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := "go"
	flood, err := cc.CallServerStream(ctx, specFlood, &req)
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	var first string
	if err := flood.Receive(&first); err != nil { // the flood has started
		t.Fatal(err)
	}
	// Not reading the flood: another stream still gets through.
	echo, res := "ping", ""
	if err := cc.CallUnary(ctx, specUnary, &echo, &res); err != nil {
		t.Fatalf("a call beside a stalled stream: %v", err)
	}
	select {
	case n := <-ts.flooded:
		t.Fatalf("the flood sent all %d messages while its reader stalled", n)
	default:
	}
	got := 1
	for {
		var m string
		if err := flood.Receive(&m); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		got++
	}
	if n := <-ts.flooded; got != n || n != 24 {
		t.Fatalf("received %d of %d messages (want 24)", got, n)
	}
}

func TestCancelReachesTheHandler(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() {
		req, res := "x", ""
		done <- cc.CallUnary(ctx, specBlock, &req, &res)
	}()
	<-ts.started
	cancel()
	if err := <-done; connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("canceled call: %v", err)
	}
	if err := <-ts.blocked; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler's context: %v", err)
	}
}

func TestTimeoutReachesTheHandler(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, res := "x", ""
	err := cc.CallUnary(ctx, specBlock, &req, &res)
	if c := connect.CodeOf(err); c != connect.CodeDeadlineExceeded && c != connect.CodeCanceled {
		t.Fatalf("call past its deadline: %v", err)
	}
	if err := <-ts.blocked; err == nil {
		t.Fatal("handler's context did not end")
	}
}

func TestOversizedMessageFailsOnlyItsCall(t *testing.T) {
	ts := startServer(t, 1024)
	cc, _ := ts.client(t, TransportOptions{MaxMessageBytes: 2048})
	big, res := strings.Repeat("y", 4096), ""
	err := cc.CallUnary(ctxT(t), specUnary, &big, &res)
	if connect.CodeOf(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "over the limit of 1024 bytes") {
		t.Fatalf("oversized request: %v", err)
	}
	// The response limit, on the client.
	st, err := cc.CallClientStream(ctxT(t), specEcho)
	if err != nil {
		t.Fatal(err)
	}
	mid := strings.Repeat("z", 1000)
	if err := st.Send(&mid); err != nil {
		t.Fatal(err)
	}
	if err := st.Receive(&res); err != nil || res != mid {
		t.Fatalf("echo under both limits: %q %v", res, err)
	}
	st.Close()
	small := "again"
	if err := cc.CallUnary(ctxT(t), specUnary, &small, &res); err != nil || res != "hello again from " {
		t.Fatalf("the connection after an oversized message: %q %v", res, err)
	}
}

func TestResponseOverTheClientLimit(t *testing.T) {
	ts := startServer(t, 0)
	cc, _ := ts.client(t, TransportOptions{MaxMessageBytes: 1000})
	req, res := strings.Repeat("q", 2000), ""
	err := cc.CallUnary(ctxT(t), specUnary, &req, &res)
	if connect.CodeOf(err) != connect.CodeResourceExhausted || !strings.Contains(err.Error(), "limit of 1000 bytes") {
		t.Fatalf("oversized response: %v", err)
	}
	small := "ok"
	if err := cc.CallUnary(ctxT(t), specUnary, &small, &res); err != nil {
		t.Fatalf("after an oversized response: %v", err)
	}
}
