package stomp

import (
	"bytes"
	"context"
	"net"
	"testing"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/server"
	"github.com/go-stomp/stomp/v3"
)

// BenchmarkReadFrame reads SEND frames of 1 KiB with five headers.
func BenchmarkReadFrame(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	f := &Frame{Command: cmdSend, Headers: []Header{{hdrDestination, "/queue/bench"}, {hdrContentType, "text/plain"},
		{"trace-id", "0123456789abcdef"}, {"app", "bench"}, {hdrReceipt, "r-1"}}, Body: body}
	one := encodeFrame(f, esc12)
	in := bytes.Repeat(one, 64)
	lim := limits{line: DefaultMaxLineBytes, headers: DefaultMaxHeaders, headerBytes: DefaultMaxHeaderBytes, body: DefaultMaxBodyBytes}
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	var r *frameReader
	src := bytes.NewReader(nil)
	for i := range b.N {
		if i%64 == 0 {
			src.Reset(in)
			r = newFrameReader(src, lim)
			r.esc = esc12
		}
		if _, err := r.ReadFrame(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessageFrame encodes MESSAGE frames of 1 KiB with three
// message headers.
func BenchmarkMessageFrame(b *testing.B) {
	s := &subscription{c: &conn{esc: esc12}, id: "sub-1", num: 1, mode: ackClient, dest: dest{queue: "bench", subject: "bench"}}
	m := &broker.Message{Subject: "bench", Payload: bytes.Repeat([]byte("x"), 1024), Headers: []broker.Header{
		{Key: hdrContentType, Value: []byte("text/plain")}, {Key: "trace-id", Value: []byte("0123456789abcdef")}, {Key: "app", Value: []byte("bench")}}}
	b.ReportAllocs()
	for i := range b.N {
		if len(s.messageFrame(m, uint64(i), false)) == 0 {
			b.Fatal("empty frame")
		}
	}
}

// BenchmarkSendQueue sends 1 KiB messages to a queue with go-stomp over
// TCP, without receipts, and waits for a last receipt: SENDs pipelined
// through PublishAsync, durable at the end.
func BenchmarkSendQueue(b *testing.B) {
	e := startEnvB(b)
	c, err := stomp.Dial("tcp", e.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.MustDisconnect()
	body := bytes.Repeat([]byte("x"), 1024)
	if err := c.Send("/queue/bench", "", body, stomp.SendOpt.Receipt); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		if err := c.Send("/queue/bench", "", body); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Send("/queue/bench", "", body, stomp.SendOpt.Receipt); err != nil {
		b.Fatal(err)
	}
}

func startEnvB(b *testing.B) *testEnv {
	srv, err := server.New(server.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	st := New(srv.Broker, Options{})
	go st.Serve(ln)
	b.Cleanup(func() {
		st.Close()
		srv.Shutdown(context.Background())
	})
	return &testEnv{srv: srv, st: st, addr: ln.Addr().String()}
}
