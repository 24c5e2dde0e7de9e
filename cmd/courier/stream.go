package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newStreamCmd() *cobra.Command {
	var o clientOpts
	cmd := &cobra.Command{Use: "stream", Short: "Administer streams", Aliases: []string{"streams"}}
	addClientFlags(cmd, &o)
	cmd.AddCommand(streamAddCmd(&o), streamLsCmd(&o), streamInfoCmd(&o), streamEditCmd(&o), streamRmCmd(&o), streamPurgeCmd(&o))
	return cmd
}

// streamFlags are the StreamConfig fields as flags.
type streamFlags struct {
	subjects                                []string
	partitions                              int
	maxAge, tombstones, dedupWindow, ttl    time.Duration
	maxBytes, maxMsgs, maxMsgSize, segBytes int64
	discard, sync                           string
	compact                                 bool
}

func (s *streamFlags) add(f *pflag.FlagSet) {
	f.StringSliceVar(&s.subjects, "subjects", nil, "subject patterns the stream captures (comma-separated or repeated)")
	f.IntVar(&s.partitions, "partitions", 0, "partitions (default 1)")
	f.DurationVar(&s.maxAge, "max-age", 0, "drop messages older than this (0: no limit)")
	f.Var(sizeFlag{&s.maxBytes}, "max-bytes", "bytes kept per partition (0: no limit)")
	f.Int64Var(&s.maxMsgs, "max-msgs", 0, "messages kept per partition (0: no limit)")
	f.StringVar(&s.discard, "discard", "", "at a limit: old (drop the oldest, default) or new (refuse new messages)")
	f.BoolVar(&s.compact, "compact", false, "keep only the newest message per key")
	f.DurationVar(&s.tombstones, "tombstone-retention", 0, "how long a compacted stream keeps tombstones")
	f.DurationVar(&s.dedupWindow, "dedup-window", 0, "de-duplication window of message ids")
	f.Var(sizeFlag{&s.maxMsgSize}, "max-msg-size", "largest message accepted")
	f.DurationVar(&s.ttl, "default-ttl", 0, "time to live of messages that set none")
	f.StringVar(&s.sync, "sync", "", "fsync policy: always (default), interval or none")
	f.Var(sizeFlag{&s.segBytes}, "segment-bytes", "log segment size")
}

// apply copies the flags set on the command line into c.
func (s *streamFlags) apply(f *pflag.FlagSet, c *client.StreamConfig) {
	set := map[string]func(){
		"subjects": func() { c.Subjects = s.subjects }, "partitions": func() { c.Partitions = s.partitions },
		"max-age": func() { c.MaxAge = s.maxAge }, "max-bytes": func() { c.MaxBytes = s.maxBytes },
		"max-msgs": func() { c.MaxMsgs = s.maxMsgs }, "discard": func() { c.Discard = s.discard },
		"compact": func() { c.Compact = s.compact }, "tombstone-retention": func() { c.TombstoneRetention = s.tombstones },
		"dedup-window": func() { c.DedupWindow = s.dedupWindow }, "max-msg-size": func() { c.MaxMsgSize = int(s.maxMsgSize) },
		"default-ttl": func() { c.DefaultTTL = s.ttl }, "sync": func() { c.Sync = s.sync },
		"segment-bytes": func() { c.SegmentBytes = s.segBytes },
	}
	for name, fn := range set {
		if f.Changed(name) {
			fn()
		}
	}
}

func streamAddCmd(o *clientOpts) *cobra.Command {
	var s streamFlags
	cmd := &cobra.Command{
		Use: "add NAME", Short: "Create a stream", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg := client.StreamConfig{Name: args[0]}
			s.apply(cmd.Flags(), &cfg)
			if len(cfg.Subjects) == 0 {
				return fmt.Errorf("--subjects: a stream captures at least one subject pattern")
			}
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				info, err := c.CreateStream(ctx, cfg)
				if err != nil {
					return err
				}
				return printStreamInfo(cmd, o.json, info)
			})
		},
	}
	s.add(cmd.Flags())
	return cmd
}

func streamEditCmd(o *clientOpts) *cobra.Command {
	var s streamFlags
	cmd := &cobra.Command{
		Use: "edit NAME", Short: "Change a stream's configuration (the flags given)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				info, err := c.Stream(ctx, args[0])
				if err != nil {
					return err
				}
				s.apply(cmd.Flags(), &info.Config)
				if info, err = c.UpdateStream(ctx, info.Config); err != nil {
					return err
				}
				return printStreamInfo(cmd, o.json, info)
			})
		},
	}
	s.add(cmd.Flags())
	return cmd
}

func streamLsCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Short: "List streams", Args: cobra.NoArgs, Aliases: []string{"list"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				ss, err := c.Streams(ctx)
				if err != nil {
					return err
				}
				if o.json {
					out := make([]streamJSON, len(ss))
					for i, s := range ss {
						out[i] = toStreamJSON(s)
					}
					return writeJSON(cmd.OutOrStdout(), out)
				}
				t := newTable(cmd.OutOrStdout(), "NAME", "SUBJECTS", "PARTITIONS", "MESSAGES", "BYTES")
				for _, s := range ss {
					t.row(s.Config.Name, strings.Join(s.Config.Subjects, ","), len(s.Partitions), s.Messages(), humanBytes(streamBytes(s)))
				}
				return t.flush()
			})
		},
	}
}

func streamInfoCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use: "info NAME", Short: "Show a stream's configuration and partitions", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				info, err := c.Stream(ctx, args[0])
				if err != nil {
					return err
				}
				return printStreamInfo(cmd, o.json, info)
			})
		},
	}
}

func streamRmCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use: "rm NAME", Short: "Delete a stream and its messages", Args: cobra.ExactArgs(1), Aliases: []string{"delete"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.DeleteStream(ctx, args[0]); err != nil {
					return err
				}
				return done(cmd, o.json, "deleted stream "+args[0])
			})
		},
	}
}

func streamPurgeCmd(o *clientOpts) *cobra.Command {
	var p client.PurgeOptions
	cmd := &cobra.Command{
		Use:   "purge NAME",
		Short: "Remove a stream's messages: all, one subject's, or one partition's below an offset",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if p.Subject != "" && cmd.Flags().Changed("up-to") {
				return fmt.Errorf("--subject and --up-to: choose one")
			}
			p.All = p.Subject == "" && !cmd.Flags().Changed("up-to")
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.PurgeStream(ctx, args[0], p); err != nil {
					return err
				}
				return done(cmd, o.json, "purged stream "+args[0])
			})
		},
	}
	cmd.Flags().StringVar(&p.Subject, "subject", "", "remove only the messages of this subject or pattern")
	cmd.Flags().IntVar(&p.Partition, "partition", 0, "with --up-to: the partition")
	cmd.Flags().Int64Var(&p.UpTo, "up-to", 0, "remove the partition's messages below this offset")
	return cmd
}

// done reports a command that has nothing but success to say.
func done(cmd *cobra.Command, asJSON bool, msg string) error {
	if asJSON {
		return writeJSON(cmd.OutOrStdout(), map[string]bool{"ok": true})
	}
	_, err := fmt.Fprintln(cmd.OutOrStdout(), msg)
	return err
}
