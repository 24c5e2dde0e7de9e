package log

import (
	"time"

	"github.com/courier-mq/courier/internal/vfs"
)

// SyncPolicy says when appended bytes are made durable, and so what a crash
// of the machine (not only of the process) can lose.
type SyncPolicy int

const (
	// SyncAlways fsyncs before acknowledging an append. Concurrent appends
	// share one write and one fsync (group commit). A crash loses nothing
	// that was acknowledged. The default.
	SyncAlways SyncPolicy = iota
	// SyncInterval acknowledges after the write and fsyncs every
	// SyncInterval. A machine crash may lose the acknowledged appends of up
	// to one interval; a process crash loses nothing (the page cache keeps
	// them).
	SyncInterval
	// SyncNone never fsyncs appends (segments are still synced when they
	// roll and at Close). A machine crash may lose any acknowledged append
	// of the active segment; a process crash loses nothing.
	SyncNone
)

func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncNone:
		return "none"
	}
	return "unknown"
}

// Retention limits the log. Whole segments are removed, oldest first, so a
// log may hold up to one segment more than a limit allows. Zero means no
// limit. The active segment is rolled and removed when everything in it is
// past MaxAge.
type Retention struct {
	MaxAge     time.Duration // by the newest timestamp in a segment
	MaxBytes   int64         // total size of all segments
	MaxRecords int64         // records stored (compacted records not counted)
}

// Compaction keeps only the newest record of each key in the sealed
// segments. Keyless records are kept. A tombstone (a keyed record with an
// empty value) is kept for TombstoneRetention after its timestamp, so that
// consumers see the delete, and is then removed too.
type Compaction struct {
	Enabled            bool
	TombstoneRetention time.Duration // default 24h
	BytesPerSecond     int64         // I/O budget of the background cleaner; default 64 MiB/s
	Interval           time.Duration // how often the cleaner looks for work; default 30s
	MinDirtyBytes      int64         // cleaner runs once this much was appended since the last run; default 1 MiB
}

// Options configure a Log. The zero value (with a FS) is usable.
type Options struct {
	FS              vfs.FS
	Sync            SyncPolicy
	SyncInterval    time.Duration // for SyncInterval; default 50ms
	MaxSegmentBytes int64         // roll when a segment would grow past this; default 128 MiB
	MaxSegmentAge   time.Duration // roll when the first record is older; 0 means never
	IndexInterval   int64         // bytes between sparse index entries; default 4 KiB
	MaxBatchBytes   int           // largest batch accepted by Append; default 16 MiB
	Retention       Retention
	Compaction      Compaction
	// JanitorInterval is how often retention runs in the background;
	// default 30s, negative disables the background janitor.
	JanitorInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnSync, when set, is called with the duration of every fsync the log
	// makes (segment and index files, and its directory), on the goroutine
	// that synced, after the sync returns. It must be quick (see synctime.go).
	OnSync func(time.Duration)
}

func (o *Options) withDefaults() Options {
	d := *o
	if d.FS == nil {
		d.FS = vfs.Disk
	}
	if d.SyncInterval <= 0 {
		d.SyncInterval = 50 * time.Millisecond
	}
	if d.MaxSegmentBytes <= 0 {
		d.MaxSegmentBytes = 128 << 20
	}
	if d.IndexInterval <= 0 {
		d.IndexInterval = 4 << 10
	}
	if d.MaxBatchBytes <= 0 {
		d.MaxBatchBytes = 16 << 20
	}
	if d.JanitorInterval == 0 {
		d.JanitorInterval = 30 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.FS = timeSyncs(d.FS, d.OnSync)
	c := &d.Compaction
	if c.TombstoneRetention <= 0 {
		c.TombstoneRetention = 24 * time.Hour
	}
	if c.BytesPerSecond <= 0 {
		c.BytesPerSecond = 64 << 20
	}
	if c.Interval <= 0 {
		c.Interval = 30 * time.Second
	}
	if c.MinDirtyBytes <= 0 {
		c.MinDirtyBytes = 1 << 20
	}
	return d
}
