package stomp

import (
	"testing"

	"github.com/go-stomp/stomp/v3"
)

func TestTxCommitAndAbort(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	sub, err := c.Subscribe("/queue/txq", stomp.AckAuto)
	if err != nil {
		t.Fatal(err)
	}
	tx := c.Begin()
	tx.Send("/queue/txq", "", []byte("aborted-1"))
	tx.Send("/queue/txq", "", []byte("aborted-2"))
	if err := tx.AbortWithReceipt(); err != nil {
		t.Fatal(err)
	}
	noMessage(t, sub)

	tx = c.Begin()
	tx.Send("/queue/txq", "", []byte("one"))
	tx.Send("/queue/txq", "", []byte("two"))
	noMessage(t, sub) // held until COMMIT
	if err := tx.CommitWithReceipt(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one", "two"} {
		if m := recv(t, sub); string(m.Body) != want {
			t.Fatalf("got %q, want %q", m.Body, want)
		}
	}
	if info, err := e.srv.StreamInfo("txq"); err != nil || info.Partitions[0].HighWatermark != 2 {
		t.Fatalf("stream txq: %+v %v, want 2 messages stored", info.Partitions, err)
	}
}

// TestTxAckHeldUntilCommit: an ACK in an aborted transaction does not
// settle; in a committed one it does.
func TestTxAckHeldUntilCommit(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	sendN(t, c, "/queue/txa", 0, 2)
	sub, err := c.Subscribe("/queue/txa", stomp.AckClientIndividual)
	if err != nil {
		t.Fatal(err)
	}
	m0, m1 := recv(t, sub), recv(t, sub)
	tx := c.Begin()
	tx.Ack(m0)
	if err := tx.AbortWithReceipt(); err != nil {
		t.Fatal(err)
	}
	tx = c.Begin()
	tx.Ack(m1)
	if err := tx.CommitWithReceipt(); err != nil {
		t.Fatal(err)
	}
	gi, err := e.srv.GroupInfo("txa", "txa")
	if err != nil || gi.Acked != 1 {
		t.Fatalf("acked %d (%v), want 1", gi.Acked, err)
	}
	c.MustDisconnect()
	c2 := e.dial(t)
	sub2, _ := c2.Subscribe("/queue/txa", stomp.AckAuto)
	if m := recv(t, sub2); string(m.Body) != "0" {
		t.Fatalf("redelivered %q, want 0 (its ACK was aborted)", m.Body)
	}
	noMessage(t, sub2)
}

func TestTxErrors(t *testing.T) {
	e := startEnv(t, Options{MaxTransactions: 1})
	for _, tc := range []struct{ frames, want string }{
		{"COMMIT\ntransaction:nope\n\n\x00", "unknown transaction"},
		{"SEND\ndestination:/topic/a\ntransaction:nope\n\nx\x00", "unknown transaction"},
		{"BEGIN\ntransaction:t\n\n\x00BEGIN\ntransaction:t\n\n\x00", "duplicate transaction"},
		{"BEGIN\ntransaction:t\n\n\x00BEGIN\ntransaction:u\n\n\x00", "too many transactions"},
		{"BEGIN\n\n\x00", "missing transaction"},
	} {
		rc := e.rawConnect(t)
		rc.send(tc.frames)
		rc.expectError(tc.want)
	}
}

func TestTxTooLarge(t *testing.T) {
	e := startEnv(t, Options{MaxTransactionBytes: 1000})
	rc := e.rawConnect(t)
	rc.send("BEGIN\ntransaction:t\n\n\x00")
	body := string(make([]byte, 600))
	rc.send("SEND\ndestination:/topic/a\ntransaction:t\ncontent-length:600\n\n" + body + "\x00")
	rc.send("SEND\ndestination:/topic/a\ntransaction:t\ncontent-length:600\n\n" + body + "\x00")
	rc.expectError("transaction too large")
}
