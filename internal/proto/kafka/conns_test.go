package kafka

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestKafkaConnsCounted checks that Conns follows connections opening and
// closing.
func TestKafkaConnsCounted(t *testing.T) {
	e := startEnv(t, Options{})
	if n := e.k.Conns(); n != 0 {
		t.Fatalf("before any client: %d connections", n)
	}
	a, b := e.dial(t), e.dial(t)
	for i, c := range []*rawConn{a, b} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 3
		c.Write(frame(int32(i), req))
		if _, _, err := c.read(); err != nil { // answered: registered
			t.Fatal(err)
		}
	}
	if n := e.k.Conns(); n != 2 {
		t.Fatalf("two clients: %d connections", n)
	}
	a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for e.k.Conns() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("after one closed: %d connections", e.k.Conns())
		}
		time.Sleep(time.Millisecond)
	}
}
