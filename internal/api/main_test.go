package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"connectrpc.com/connect/v2/connectproto"
	"go.uber.org/goleak"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/server"
	"github.com/courier-mq/courier/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEnv is an in-process Courier server with the API on a real listener.
type testEnv struct {
	srv  *server.Server
	api  *Server
	url  string
	h2c  *http.Client
	http *http.Client // HTTP/1.1 only

	mu    sync.Mutex
	wires []*wire.Transport // closed at the end
}

func startEnv(t testing.TB, o Options) *testEnv {
	t.Helper()
	srv, err := server.New(server.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := New(srv.Broker, o)
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()
	e := &testEnv{srv: srv, api: a, url: "http://" + ln.Addr().String(),
		h2c: h2cClient(), http: &http.Client{Transport: &http.Transport{}}}
	t.Cleanup(func() {
		e.mu.Lock()
		for _, tr := range e.wires {
			tr.Close()
		}
		e.mu.Unlock()
		e.h2c.CloseIdleConnections()
		e.http.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
		srv.Shutdown(context.Background())
	})
	return e
}

func h2cClient() *http.Client {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: p}}
}

// protocols are the ways the tests reach the server with the generated
// clients: Connect and gRPC, both over h2c, and wire.
var protocols = []protocol{
	{name: "connect"},
	{name: "grpc", opts: []connecthttp.Option{connecthttp.WithGRPC()}},
	{name: "wire", wire: true},
}

type protocol struct {
	name string
	opts []connecthttp.Option
	wire bool
}

// clients are the generated clients over p.
func (p protocol) clients(e *testEnv) (courierv1connect.MessagingServiceClient, courierv1connect.AdminServiceClient) {
	if !p.wire {
		return e.clients(p.opts...)
	}
	return e.wireClients()
}

// wireClients are the generated clients over a wire transport of their
// own.
func (e *testEnv) wireClients() (courierv1connect.MessagingServiceClient, courierv1connect.AdminServiceClient) {
	tr := wire.NewTransport(strings.TrimPrefix(e.url, "http://"), wire.TransportOptions{Codec: connectproto.NewBinaryCodec()})
	e.mu.Lock()
	e.wires = append(e.wires, tr)
	e.mu.Unlock()
	c := connect.NewClient(tr)
	return courierv1connect.NewMessagingServiceClient(c), courierv1connect.NewAdminServiceClient(c)
}

func (e *testEnv) clients(opts ...connecthttp.Option) (courierv1connect.MessagingServiceClient, courierv1connect.AdminServiceClient) {
	c := connect.NewClient(connecthttp.NewTransport(e.h2c, e.url, opts...))
	return courierv1connect.NewMessagingServiceClient(c), courierv1connect.NewAdminServiceClient(c)
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (e *testEnv) createStream(t *testing.T, name string, subjects ...string) {
	t.Helper()
	if _, err := e.srv.CreateStream(server.StreamConfig{Name: name, Subjects: subjects}); err != nil {
		t.Fatal(err)
	}
}

// wantErr checks err's code and that its message starts with reason, and
// that its ErrorInfo detail says reason; it returns the detail.
func wantErr(t *testing.T, err error, code connect.Code, reason string) *courierv1.ErrorInfo {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a %v error", err, code)
	}
	if ce.Code() != code {
		t.Fatalf("code %v (%s), want %v", ce.Code(), ce.Message(), code)
	}
	if reason == "" {
		return nil
	}
	if len(ce.Message()) < len(reason) || ce.Message()[:len(reason)] != reason {
		t.Fatalf("message %q does not start with %q", ce.Message(), reason)
	}
	for _, d := range ce.Details() {
		msg, err := connectproto.UnmarshalErrorDetail(d)
		if err != nil {
			t.Fatal(err)
		}
		if info, ok := msg.(*courierv1.ErrorInfo); ok {
			if info.Reason != reason {
				t.Fatalf("ErrorInfo reason %q, want %q", info.Reason, reason)
			}
			return info
		}
	}
	t.Fatalf("no ErrorInfo detail in %v", ce)
	return nil
}

func pub(subject, payload string) *courierv1.PublishRequest {
	return &courierv1.PublishRequest{Message: &courierv1.Message{Subject: subject, Payload: []byte(payload)}}
}

// jobsGroup creates the stream jobs (jobs.>) and its shared group w.
// jobsInfo returns the state of group w on stream jobs.
func (e *testEnv) jobsInfo(t *testing.T) server.GroupInfo {
	t.Helper()
	gi, err := e.srv.GroupInfo("jobs", "w")
	if err != nil {
		t.Fatal(err)
	}
	return gi
}

func (e *testEnv) jobsGroup(t *testing.T) {
	t.Helper()
	e.createStream(t, "jobs", "jobs.>")
	if _, err := e.srv.CreateGroup(server.GroupConfig{Name: "w", Stream: "jobs"}); err != nil {
		t.Fatal(err)
	}
}
