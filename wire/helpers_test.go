package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
)

// strCodec encodes *string messages as their bytes.
type strCodec struct{}

func (strCodec) Name() string { return "proto" }
func (strCodec) MarshalWrite(_ context.Context, w io.Writer, msg any) error {
	_, err := io.WriteString(w, *msg.(*string))
	return err
}
func (strCodec) UnmarshalRead(_ context.Context, r io.Reader, msg any) error {
	b, err := io.ReadAll(r)
	if strings.HasPrefix(string(b), "bad") {
		return errors.New("bad message")
	}
	*msg.(*string) = string(b)
	return err
}

var (
	specUnary = connect.Spec{Procedure: "/t.S/Unary", StreamType: connect.StreamTypeUnary}
	specEcho  = connect.Spec{Procedure: "/t.S/Echo", StreamType: connect.StreamTypeBidi}
	specFail  = connect.Spec{Procedure: "/t.S/Fail", StreamType: connect.StreamTypeUnary}
	specBlock = connect.Spec{Procedure: "/t.S/Block", StreamType: connect.StreamTypeUnary}
	specFlood = connect.Spec{Procedure: "/t.S/Flood", StreamType: connect.StreamTypeServer}
	specNone  = connect.Spec{Procedure: "/t.S/None", StreamType: connect.StreamTypeUnary}
	specBig   = connect.Spec{Procedure: "/t.S/BigFail", StreamType: connect.StreamTypeUnary}
	specEmpty = connect.Spec{Procedure: "/t.S/Empty", StreamType: connect.StreamTypeUnary}
	specSink  = connect.Spec{Procedure: "/t.S/Sink", StreamType: connect.StreamTypeBidi}
)

// testServer is a wire server on 127.0.0.1 with the test methods.
type testServer struct {
	*Server
	rpc     *connect.Server
	addr    string
	ln      net.Listener
	wg      sync.WaitGroup
	blocked chan error // Block's handler sends its context's error here
	started chan struct{}
	flooded chan int // Flood's handler sends how many messages went
}

func startServer(t *testing.T, maxMsg int) *testServer {
	t.Helper()
	ts := &testServer{blocked: make(chan error, 16), started: make(chan struct{}, 16), flooded: make(chan int, 32)}
	rpc := connect.NewServer()
	rpc.Register(
		connect.Method{Spec: specUnary, Handler: unaryHandler},
		connect.Method{Spec: specEcho, Handler: echoHandler},
		connect.Method{Spec: specFail, Handler: func(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
			return connect.NewError(connect.CodeNotFound, "no such thing").WithDetail(&connect.ErrorDetail{Type: "t.Info", Value: []byte{1, 2}})
		}},
		connect.Method{Spec: specBlock, Handler: func(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
			ts.started <- struct{}{}
			<-ctx.Done()
			ts.blocked <- ctx.Err()
			return ctx.Err()
		}},
		connect.Method{Spec: specBig, Handler: func(context.Context, connect.Spec, connect.ServerStream) error {
			return connect.NewError(connect.CodeInternal, strings.Repeat("e", 70<<10))
		}},
		connect.Method{Spec: specEmpty, Handler: func(context.Context, connect.Spec, connect.ServerStream) error { return nil }},
		connect.Method{Spec: specSink, Handler: func(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
			var s string
			if err := st.Receive(&s); err != nil {
				return err
			}
			return nil // ends the stream after one message
		}},
		connect.Method{Spec: specFlood, Handler: func(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
			var s string
			if err := st.Receive(&s); err != nil {
				return err
			}
			msg := strings.Repeat("x", 1<<20)
			n := 0
			defer func() { ts.flooded <- n }()
			for range 24 {
				if err := st.Send(&msg); err != nil {
					return err
				}
				n++
			}
			return nil
		}},
	)
	ts.rpc = rpc
	ts.Server = NewServer(rpc, ServerOptions{Codec: strCodec{}, MaxMessageBytes: maxMsg})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.ln, ts.addr = ln, ln.Addr().String()
	ts.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			ts.wg.Go(func() {
				got := make([]byte, len(Preface))
				if _, err := io.ReadFull(nc, got); err != nil || string(got) != Preface {
					nc.Close()
					return
				}
				ts.ServeConn(nc, nc)
			})
		}
	})
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	ts.ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Shutdown(ctx)
	ts.wg.Wait()
}

func unaryHandler(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
	var s string
	if err := st.Receive(&s); err != nil {
		return err
	}
	info, _ := connect.CallInfoForServerContext(ctx)
	info.ResponseHeader().Set("Greeting", "hello")
	info.ResponseTrailer().Set("Done", "yes")
	out := "hello " + s + " from " + info.RequestHeader().Get("Who")
	return st.Send(&out)
}

func echoHandler(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
	return echo(st, "")
}

// echo answers each message it receives with prefix and the message,
// until the client closes its side.
func echo(st connect.ServerStream, prefix string) error {
	for {
		var s string
		if err := st.Receive(&s); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		out := prefix + s
		if err := st.Send(&out); err != nil {
			return err
		}
	}
}

// client returns a connect client over a new Transport to ts.
func (ts *testServer) client(t *testing.T, o TransportOptions) (*connect.Client, *Transport) {
	t.Helper()
	o.Codec = strCodec{}
	tr := NewTransport(ts.addr, o)
	t.Cleanup(func() { tr.Close() })
	return connect.NewClient(tr), tr
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
