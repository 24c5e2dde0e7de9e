package broker

import "testing"

func TestCaptures(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	for subj, want := range map[string]bool{"orders.new": true, "orders": false, "ping": false, "_INBOX.x": false} {
		if got := e.b.Captures(subj); got != want {
			t.Errorf("Captures(%q) = %v, want %v", subj, got, want)
		}
	}
}
