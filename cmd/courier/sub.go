package main

import (
	"context"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

type subOpts struct {
	clientOpts
	from  string
	count int
}

func newSubCmd() *cobra.Command {
	var o subOpts
	cmd := &cobra.Command{
		Use:   "sub SUBJECT",
		Short: "Print the messages of a subject or pattern",
		Long: `Print the messages whose subject matches SUBJECT (a subject or a pattern with
* and >): live ones, or from --from on and then live. Runs until Ctrl-C or
--count messages.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start, err := parseFrom(o.from)
			if err != nil {
				return err
			}
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				return o.run(ctx, c, args[0], start.start(), cmd)
			})
		},
	}
	addClientFlags(cmd, &o.clientOpts)
	cmd.Flags().StringVar(&o.from, "from", "", "start at "+fromUsage+" (default: live only)")
	cmd.Flags().IntVarP(&o.count, "count", "n", 0, "stop after this many messages (0: run until Ctrl-C)")
	return cmd
}

func (o *subOpts) run(ctx context.Context, c *client.Client, pattern string, start client.Start, cmd *cobra.Command) error {
	sub, err := c.Subscribe(ctx, pattern, start)
	if err != nil {
		return err
	}
	defer sub.Close()
	for n := 0; o.count == 0 || n < o.count; n++ {
		m, err := sub.Next(ctx)
		if err != nil {
			if ended(ctx, err) {
				return nil
			}
			return err
		}
		if err := printMessage(cmd.OutOrStdout(), o.json, m); err != nil {
			return err
		}
	}
	return nil
}

// start converts a parsed --from to the client's Start.
func (f from) start() client.Start {
	switch f.kind {
	case fromEarliest:
		return client.StartEarliest()
	case fromLatest:
		return client.StartLatest()
	case fromOffset:
		return client.StartAt(f.n)
	case fromTime:
		return client.StartTime(f.t)
	case fromLast:
		return client.StartLast(f.n)
	}
	return client.Start{}
}
