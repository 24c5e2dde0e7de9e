package broker

import "time"

// afterReopen returns a channel that fires after a short pause, for
// readers that met a log closed by a stream update and must fetch the
// reopened one.
func afterReopen() <-chan time.Time { return time.After(5 * time.Millisecond) }
