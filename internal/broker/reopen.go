package broker

import (
	"context"
	"time"
)

// afterReopen returns a channel that fires after a short pause, for
// readers that met a log closed by a stream update and must fetch the
// reopened one.
func afterReopen() <-chan time.Time { return time.After(5 * time.Millisecond) }

// retryPause waits before retrying a failed read, so that a damaged log
// does not spin.
func retryPause(ctx context.Context) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
