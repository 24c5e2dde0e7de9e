package amqp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
)

// chunkReader returns at most n bytes per Read, so that frames arrive
// split at every position.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

// fuzzSeeds are valid frames of several kinds.
func fuzzSeeds() [][]byte {
	p := &Properties{Flags: flagContentType | flagHeaders | flagTimestamp, ContentType: "text/plain",
		Headers: Table{"a": int32(1), "b": []any{"x", true}, "c": Table{"d": Decimal{2, 314}}}, Timestamp: 7}
	return [][]byte{
		appendMethod(nil, 0, &connectionStartOk{ClientProperties: Table{"product": "fuzz"}, Mechanism: "PLAIN", Response: "\x00guest\x00guest"}),
		appendMethod(nil, 1, &queueDeclare{Queue: "q", Durable: true, Arguments: Table{"x-message-ttl": int32(1000)}}),
		appendMethod(nil, 1, &basicAck{DeliveryTag: 3, Multiple: true}),
		appendContent(nil, 1, &basicPublish{RoutingKey: "q", Mandatory: true}, p, []byte("hello"), frameMinSize),
		heartbeatFrame,
	}
}

// FuzzAMQPFrames reads arbitrary bytes, chunked, as frames and decodes
// every method and content header. Nothing may panic, no frame above the
// limit may be returned, and a method that decodes encodes back to bytes
// that decode to the same encoding.
func FuzzAMQPFrames(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(uint8(3), s)
	}
	f.Fuzz(func(t *testing.T, chunk uint8, data []byte) {
		fr := frameReader{r: bufio.NewReaderSize(&chunkReader{b: data, n: int(chunk%16) + 1}, 16), max: frameMinSize}
		for range 64 {
			fm, err := fr.read()
			if err != nil {
				return
			}
			if len(fm.payload)+frameOverhead > frameMinSize {
				t.Fatalf("frame of %d bytes passed the limit", len(fm.payload))
			}
			switch fm.typ {
			case frameMethod:
				m, err := decodeMethod(fm.payload)
				if err != nil {
					continue
				}
				once := appendMethod(nil, 0, m)
				m2, err := decodeMethod(once[7 : len(once)-1])
				if err != nil {
					t.Fatalf("%s: re-encoded method does not decode: %v", m.Name(), err)
				}
				if twice := appendMethod(nil, 0, m2); !bytes.Equal(once, twice) {
					t.Fatalf("%s: encoding not stable", m.Name())
				}
			case frameHeader:
				readContentHeader(fm.payload)
			}
		}
	})
}

// FuzzAMQPConn drives a server connection: a valid handshake and channel
// open, then arbitrary bytes. Nothing may panic and the connection must
// end; the server must carry on.
func FuzzAMQPConn(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	srv, err := server.New(server.Options{DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		f.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	s := New(srv.Broker, Options{MaxBodySize: 1 << 16, HandshakeTimeout: time.Second, WriteTimeout: time.Second})
	defer s.Close()
	var pre []byte
	pre = append(pre, protocolHeader...)
	pre = appendMethod(pre, 0, &connectionStartOk{Mechanism: "PLAIN", Response: "\x00guest\x00guest"})
	pre = appendMethod(pre, 0, &connectionTuneOk{ChannelMax: 8, FrameMax: frameMinSize})
	pre = appendMethod(pre, 0, &connectionOpen{VirtualHost: "/"})
	pre = appendMethod(pre, 1, &channelOpen{})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		s.serveConn(a)
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, b); close(done) }()
		b.SetWriteDeadline(time.Now().Add(time.Second))
		b.Write(append(append([]byte{}, pre...), data...))
		b.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection did not end")
		}
	})
}
