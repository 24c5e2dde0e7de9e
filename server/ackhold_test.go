package server

import (
	"testing"
	"time"
)

// Acks above a partition's floor are held five commit intervals, and not
// at all when every ack is committed at once.
func TestAckHoldFollowsTheCommitInterval(t *testing.T) {
	for _, c := range []struct{ commit, hold time.Duration }{
		{0, 50 * time.Millisecond}, {20 * time.Millisecond, 100 * time.Millisecond}, {-1, -1},
	} {
		if got := ackHold(c.commit); got != c.hold {
			t.Errorf("ackHold(%v) = %v, want %v", c.commit, got, c.hold)
		}
	}
}
