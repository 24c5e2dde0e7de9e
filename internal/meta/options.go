package meta

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// DefaultCommitInterval is the default Options.CommitInterval.
const DefaultCommitInterval = 10 * time.Millisecond

// deferredCommitBytes is how much deferred data starts a commit at once,
// without waiting for the rest of the interval.
const deferredCommitBytes = 1 << 20

// Options configure a Store. The zero value stores on disk with the
// default commit interval and discards Pebble's log messages.
type Options struct {
	// FS is the filesystem; nil means vfs.Default (the disk). Tests use
	// vfs.NewMem or vfs.NewCrashableMem.
	FS vfs.FS
	// CommitInterval bounds how long a deferred write waits before it is
	// committed durably: it is the window of acked messages that a crash
	// may redeliver. 0 means DefaultCommitInterval; negative means every
	// deferred write is committed synchronously, like Set.
	CommitInterval time.Duration
	// Logger receives Pebble's errors (and its informational messages at
	// debug level); nil discards them.
	Logger *slog.Logger
}

func (o Options) pebble() *pebble.Options {
	fs := o.FS
	if fs == nil {
		fs = vfs.Default
	}
	return &pebble.Options{
		FS:                 fs,
		Logger:             pebbleLogger{o.Logger},
		FormatMajorVersion: pebble.FormatNewest,
	}
}

func (o Options) interval() time.Duration {
	if o.CommitInterval == 0 {
		return DefaultCommitInterval
	}
	return o.CommitInterval
}

// pebbleLogger adapts Pebble's logger to slog. Pebble calls Fatalf when it
// cannot go on (a failed manifest sync, detected corruption) and expects it
// not to return; the default logger exits the process, this one panics.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.log(slog.LevelDebug, format, args)
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.log(slog.LevelError, format, args)
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.log(slog.LevelError, format, args)
	panic("meta: pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) log(level slog.Level, format string, args []any) {
	if p.l != nil && p.l.Enabled(context.Background(), level) {
		p.l.Log(context.Background(), level, "pebble: "+fmt.Sprintf(format, args...))
	}
}
