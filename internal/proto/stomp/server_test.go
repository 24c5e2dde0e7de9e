package stomp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/go-stomp/stomp/v3"
)

// TestServerShutdown: Shutdown answers what was read, then an ERROR
// saying the server is shutting down, and closes.
func TestServerShutdown(t *testing.T) {
	e := startEnv(t, Options{})
	rc := e.rawConnect(t)
	rc.send("SEND\ndestination:/queue/sd\nreceipt:r1\n\nx\x00")
	if f := rc.read(); f.Command != cmdReceipt {
		t.Fatalf("got %s", f.Command)
	}
	c := e.dial(t)
	done := make(chan error, 1)
	go func() { done <- e.st.Shutdown(ctx5(t)) }()
	rc.expectError("server shutting down")
	rc.nc.Close() // Shutdown waits for the client to close (or 1 s)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e.st.Conns() != 0 {
		t.Errorf("Conns() = %d after Shutdown", e.st.Conns())
	}
	if err := c.Send("/topic/x", "", nil, stomp.SendOpt.Receipt); err == nil {
		t.Error("send after Shutdown succeeded")
	}
}

// TestServerSlowConsumer: a client that stops reading a live topic is
// cut off (its broker buffer overflows, then its write times out), and
// others carry on.
func TestServerSlowConsumer(t *testing.T) {
	e := startEnv(t, Options{WriteQueueBytes: 4 << 10, WriteTimeout: 200 * time.Millisecond})
	rc := e.rawConnect(t)
	rc.send("SUBSCRIBE\nid:1\ndestination:/topic/flood\nreceipt:s\n\n\x00")
	if f := rc.read(); f.Command != cmdReceipt {
		t.Fatalf("got %s", f.Command)
	}
	by := e.dial(t)
	bySub, err := by.Subscribe("/topic/calm", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	barrier(t, by)
	payload := []byte(strings.Repeat("p", 1024))
	ctx := context.Background()
	for i := 0; i < 50000 && e.st.Conns() == 2; i++ {
		if _, err := e.srv.Publish(ctx, &broker.Message{Subject: "flood", Payload: payload}, broker.Expect{}); err != nil {
			t.Fatal(err)
		}
	}
	waitConns(t, e.st, 1)
	if err := by.Send("/topic/calm", "", []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, bySub); string(m.Body) != "still here" {
		t.Fatalf("got %q", m.Body)
	}
}

// TestServerPublishFailureWithPipelinedSends: after a failed publish
// ends the confirmer, a client still pipelining SENDs (more than the
// pending bound) gets the ERROR and the connection closes; the reader
// does not wait forever to queue its next confirmation.
func TestServerPublishFailureWithPipelinedSends(t *testing.T) {
	e := startEnv(t, Options{MaxPendingPublishes: 2})
	rc := e.rawConnect(t)
	rc.send("SEND\ndestination:/queue/pf\nreceipt:r\n\nx\x00")
	if f := rc.read(); f.Command != cmdReceipt {
		t.Fatalf("got %s", f.Command)
	}
	if err := e.srv.DeleteGroup("pf", "pf"); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.DeleteStream("pf"); err != nil {
		t.Fatal(err)
	}
	go func() { // the server may close before reading them all
		for range 50 {
			if _, err := rc.nc.Write([]byte("SEND\ndestination:/queue/pf\n\ny\x00")); err != nil {
				return
			}
		}
	}()
	rc.expectError("publish failed")
	rc.nc.Close()
	waitConns(t, e.st, 0)
}
