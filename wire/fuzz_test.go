package wire

import (
	"context"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
)

// fuzzRPC has the methods that end on their own once their connection
// does: unary, echo, fail and an inline sink.
func fuzzRPC() *connect.Server {
	rpc := connect.NewServer()
	rpc.Register(
		connect.Method{Spec: specUnary, Handler: unaryHandler},
		connect.Method{Spec: specEcho, Handler: echoHandler},
		connect.Method{Spec: specFail, Handler: func(context.Context, connect.Spec, connect.ServerStream) error {
			return connect.NewError(connect.CodeNotFound, "no")
		}},
		connect.Method{Spec: specInlineSink, Handler: inlineSink},
	)
	return rpc
}

var specInlineSink = connect.Spec{Procedure: "/t.S/InlineSink", StreamType: connect.StreamTypeBidi}

// inlineSink takes its messages inline without answering them, except
// those starting with "no", which it answers from Receive.
func inlineSink(ctx context.Context, _ connect.Spec, st connect.ServerStream) error {
	stop, _ := Inline(ctx, func(decode func(any) error) bool {
		var s string
		return decode(&s) == nil && !strings.HasPrefix(s, "no")
	})
	defer stop()
	return echo(st, "recv:")
}

func seedFrames() [][]byte {
	msg := func(id uint32, s string) []byte { return append(appendFrame(nil, frameMsg, id, len(s)), s...) }
	closeSend := appendFrame(nil, frameCloseSend, 1, 0)
	return [][]byte{
		append(append(open(1, specUnary), msg(1, "hi")...), closeSend...),
		append(append(open(1, specEcho), msg(1, "a")...), msg(1, "b")...),
		append(open(1, specFail), closeSend...),
		append(append(append(append(open(1, specInlineSink), msg(1, "a")...), msg(1, "no")...), msg(1, "b")...), closeSend...),
		append(open(1, specEcho), appendPayload(nil, frameWindow, 1, func(b []byte) []byte { return appendWindow(b, 100) })...),
		append(open(1, specEcho), appendFrame(nil, frameCancel, 1, 0)...),
		appendFrame(nil, frameMsg, 1, 1<<17),
		appendFrame(nil, 99, 1, 0),
	}
}

// FuzzServerFrames feeds a server connection arbitrary frames: it must
// neither panic nor hang, and its calls must end with the connection.
func FuzzServerFrames(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewServer(fuzzRPC(), ServerOptions{Codec: strCodec{}, MaxMessageBytes: 1 << 16})
		cli, srv := net.Pipe()
		var wg sync.WaitGroup
		wg.Go(func() { io.Copy(io.Discard, cli) })
		wg.Go(func() { s.ServeConn(srv, srv) })
		cli.SetWriteDeadline(time.Now().Add(5 * time.Second))
		cli.Write(in)
		cli.Close()
		wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatalf("calls still running after their connection ended: %v", err)
		}
	})
}

// FuzzClientFrames feeds a client connection arbitrary frames from a
// server while a call is open: no panic, no hang.
func FuzzClientFrames(f *testing.F) {
	hdrs := appendPayload(nil, frameHeaders, 1, func(b []byte) []byte { return appendHeaders(enc(b), &connect.Header{}) })
	end := appendPayload(nil, frameEnd, 1, (&endFrame{code: connect.CodeNotFound, message: "x"}).append)
	f.Add(append(append(hdrs, append(appendFrame(nil, frameMsg, 1, 2), "ok"...)...), end...))
	f.Add(appendPayload(nil, frameGoAway, 0, goAway{code: connect.CodeUnavailable, message: "bye"}.append))
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		cli, srv := net.Pipe()
		var wg sync.WaitGroup
		wg.Go(func() {
			defer srv.Close()
			got := make([]byte, len(Preface))
			if _, err := io.ReadFull(srv, got); err != nil {
				return
			}
			wg.Go(func() { io.Copy(io.Discard, srv) })
			srv.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(srv, Preface); err == nil {
				srv.Write(in)
			}
		})
		tr := NewTransport("pipe", TransportOptions{Codec: strCodec{}, MaxMessageBytes: 1 << 16,
			Dial: func(context.Context, string) (net.Conn, error) { return cli, nil }})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := connect.NewClient(tr).CallClientStream(ctx, specEcho)
		if err == nil {
			msg := "m"
			st.Send(&msg)
			for st.Receive(&msg) == nil {
			}
			st.Close()
		}
		if ctx.Err() != nil {
			t.Fatal("the call hung")
		}
		tr.Close()
		wg.Wait()
	})
}

// FuzzPayloads decodes control payloads: no panic, and what decodes
// encodes back to the same frame.
func FuzzPayloads(f *testing.F) {
	o := openFrame{procedure: "/a.B/C", timeout: time.Second}
	o.header.Add("K", "v")
	f.Add(o.append(nil))
	e := endFrame{code: connect.CodeNotFound, message: "m", details: []*connect.ErrorDetail{{Type: "t", Value: []byte{1}}}}
	e.trailer.Add("T", "x")
	f.Add(e.append(nil))
	f.Add(appendWindow(nil, 5))
	f.Fuzz(func(t *testing.T, p []byte) {
		if o, err := parseOpen(p); err == nil {
			o2, err := parseOpen(o.append(nil))
			if err != nil || o2.procedure != o.procedure || o2.timeout != o.timeout || !sameHeaders(&o.header, &o2.header) {
				t.Fatalf("open %+v re-encoded as %+v (%v)", o, o2, err)
			}
		}
		if e, err := parseEnd(p); err == nil {
			e2, err := parseEnd(e.append(nil))
			if err != nil || e2.code != e.code || e2.message != e.message || !reflect.DeepEqual(e2.details, e.details) || !sameHeaders(&e.trailer, &e2.trailer) {
				t.Fatalf("end %+v re-encoded as %+v (%v)", e, e2, err)
			}
		}
		if h, err := parseHeaders(p); err == nil {
			h2, err := parseHeaders(appendHeaders(nil, &h))
			if err != nil || !sameHeaders(&h, &h2) {
				t.Fatalf("headers re-encoded differ (%v)", err)
			}
		}
		if n, err := parseWindow(p); err == nil {
			if n2, err := parseWindow(appendWindow(nil, n)); err != nil || n2 != n {
				t.Fatalf("window %d re-encoded as %d (%v)", n, n2, err)
			}
		}
		parseGoAway(p)
	})
}

func sameHeaders(a, b *connect.Header) bool {
	ma, mb := map[string][]string{}, map[string][]string{}
	for k, v := range a.All() {
		ma[k] = v
	}
	for k, v := range b.All() {
		mb[k] = v
	}
	return reflect.DeepEqual(ma, mb)
}
