package amqp

import (
	"testing"
	"time"
)

// Publishes and acks in a transaction take effect at commit; a rollback
// drops them.
func TestAMQPTransactions(t *testing.T) {
	e := startEnv(t, Options{})
	ch := e.channel(t)
	declareQueue(t, ch, "q")
	ds := consume(t, e.channel(t), "q", true)
	if err := ch.Tx(); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", "q", "dropped")
	if err := ch.TxRollback(); err != nil {
		t.Fatal(err)
	}
	publish(t, ch, "", "q", "kept")
	none(t, ds, 100*time.Millisecond)
	if err := ch.TxCommit(); err != nil {
		t.Fatal(err)
	}
	if d := recv(t, ds); string(d.Body) != "kept" {
		t.Fatalf("got %q, want kept", d.Body)
	}
	none(t, ds, 100*time.Millisecond)

	// An ack in a transaction is held until commit.
	txc := e.channel(t)
	declareQueue(t, txc, "w")
	publish(t, txc, "", "w", "job")
	if err := txc.Tx(); err != nil {
		t.Fatal(err)
	}
	d := recv(t, consume(t, txc, "w", false))
	d.Ack(false)
	if err := txc.TxRollback(); err != nil {
		t.Fatal(err)
	}
	d.Ack(false)
	if err := txc.TxCommit(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acked", func() bool {
		gi, err := e.srv.GroupInfo("w", "w")
		return err == nil && gi.Acked == 1
	})
	if err := txc.Confirm(false); code(err) != 406 {
		t.Fatalf("confirm.select in tx mode: %v, want 406", err)
	}
}
