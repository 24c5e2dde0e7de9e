package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

// Dead letters are messages a group gave up on, published to its
// dead-letter subject with courier-dlq-* headers (the original subject,
// stream, partition and offset, the group, the reason and the number of
// deliveries) and stored by the stream that captures that subject: the
// dead-letter queue. `dlq ls` reads that stream; `dlq redrive` moves its
// messages back to their original subjects.

const dlqHeader = "courier-dlq-"

func newDLQCmd() *cobra.Command {
	var o clientOpts
	cmd := &cobra.Command{Use: "dlq", Short: "Inspect and redrive dead-letter queues"}
	addClientFlags(cmd, &o)
	cmd.AddCommand(dlqLsCmd(&o), dlqRedriveCmd(&o))
	return cmd
}

// deadLetterJSON is a dead letter in JSON output.
type deadLetterJSON struct {
	messageJSON
	OriginalSubject string `json:"original_subject"`
	OriginalStream  string `json:"original_stream,omitempty"`
	OriginalOffset  string `json:"original_offset,omitempty"`
	Group           string `json:"group,omitempty"`
	Reason          string `json:"reason"`
	Error           string `json:"error,omitempty"`
	DeadDeliveries  int    `json:"dead_deliveries"`
}

func toDeadLetter(m *client.Message) deadLetterJSON {
	h := func(k string) string { v, _ := m.Header(dlqHeader + k); return v }
	n, _ := strconv.Atoi(h("deliveries"))
	return deadLetterJSON{messageJSON: toMessageJSON(m), OriginalSubject: h("subject"), OriginalStream: h("stream"),
		OriginalOffset: h("partition") + "@" + h("offset"), Group: h("group"), Reason: h("reason"), Error: h("error"),
		DeadDeliveries: n}
}

func dlqLsCmd(o *clientOpts) *cobra.Command {
	var max int
	cmd := &cobra.Command{
		Use: "ls STREAM", Short: "List the dead letters stored in a stream", Args: cobra.ExactArgs(1), Aliases: []string{"list"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				ms, err := readAll(ctx, c, args[0], max)
				if err != nil {
					return err
				}
				dls := make([]deadLetterJSON, len(ms))
				for i, m := range ms {
					dls[i] = toDeadLetter(m)
				}
				if o.json {
					return writeJSON(cmd.OutOrStdout(), dls)
				}
				t := newTable(cmd.OutOrStdout(), "AT", "SUBJECT", "GROUP", "REASON", "DELIVERIES", "PAYLOAD")
				for _, d := range dls {
					t.row(fmt.Sprintf("%d@%d", d.Partition, d.Offset), d.OriginalSubject, orDash(d.Group), orDash(d.Reason), d.DeadDeliveries, d.Payload+d.PayloadBase64)
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().IntVarP(&max, "count", "n", 1000, "list at most this many")
	return cmd
}

// readAll reads up to max messages of every partition of a stream.
func readAll(ctx context.Context, c *client.Client, stream string, max int) ([]*client.Message, error) {
	info, err := c.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	var out []*client.Message
	for _, p := range info.Partitions {
		for off := p.StartOffset; off < p.HighWatermark && len(out) < max; {
			ms, next, err := c.ReadMessages(ctx, stream, p.Partition, off, min(max-len(out), 1000))
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
			if next <= off {
				break
			}
			off = next
		}
	}
	return out, nil
}

func dlqRedriveCmd(o *clientOpts) *cobra.Command {
	var r client.RedriveOptions
	var partition int
	cmd := &cobra.Command{
		Use:   "redrive STREAM",
		Short: "Move dead letters back to their original subjects",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("partition") {
				r.Partition = &partition
			}
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				res, err := c.Redrive(ctx, args[0], r)
				if err != nil {
					return err
				}
				if o.json {
					return writeJSON(cmd.OutOrStdout(), map[string]int64{"moved": res.Moved, "skipped": res.Skipped})
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "redrove %d dead letters (%d skipped)\n", res.Moved, res.Skipped)
				return err
			})
		},
	}
	cmd.Flags().IntVar(&partition, "partition", 0, "only this partition (default: every partition)")
	cmd.Flags().Int64Var(&r.FromOffset, "from-offset", 0, "first offset to move")
	cmd.Flags().Int64Var(&r.ToOffset, "to-offset", 0, "offset to stop before (0: the end)")
	return cmd
}
