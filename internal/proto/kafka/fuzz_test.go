package kafka

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzKafkaRequest feeds random and mutated request bodies (header and
// body, without the size) to the parser and the handlers. Nothing may
// panic; errors close the connection.
func FuzzKafkaRequest(f *testing.F) {
	for _, a := range apis {
		for v := a.min; v <= a.max; v++ {
			req := kmsg.RequestForKey(a.key)
			req.SetVersion(v)
			f.Add(frame(1, req)[4:])
		}
	}
	f.Add(frame(1, fetchReq("fz", 0, 10, 1))[4:])
	pr := kmsg.NewPtrProduceRequest()
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "fz"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = batch("a")
	rt.Partitions = append(rt.Partitions, rp)
	pr.Topics, pr.Acks = append(pr.Topics, rt), 1
	f.Add(frame(1, pr)[4:])

	srv, err := server.New(server.Options{DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		f.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	srv.CreateStream(server.StreamConfig{Name: "fz", Partitions: 2})
	s := New(srv, Options{AutoCreateTopics: true, MaxFrameBytes: 1 << 20})
	defer s.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := newConn(s, a)
		var cancel context.CancelFunc
		c.ctx, cancel = context.WithTimeout(c.ctx, 20*time.Millisecond) // bounds long polls
		defer cancel()
		if fr, err := c.handle(body); err == nil {
			fr.resolve() // a Produce waits for its batches
			if fr.release != nil {
				fr.release()
			}
		}
	})
}
