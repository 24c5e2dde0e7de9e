package main

import (
	"context"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

func newGroupCmd() *cobra.Command {
	var o clientOpts
	cmd := &cobra.Command{Use: "group", Short: "Administer consumer groups", Aliases: []string{"groups"}}
	addClientFlags(cmd, &o)
	cmd.AddCommand(groupAddCmd(&o), groupLsCmd(&o), groupInfoCmd(&o), groupRmCmd(&o))
	return cmd
}

func groupAddCmd(o *clientOpts) *cobra.Command {
	var g client.GroupConfig
	var fromFlag string
	cmd := &cobra.Command{
		Use: "add STREAM NAME", Short: "Create a consumer group on a stream", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			start, err := parseFrom(fromFlag)
			if err != nil {
				return err
			}
			g.Stream, g.Name, g.Start = args[0], args[1], start.start()
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				info, err := c.CreateGroup(ctx, g)
				if err != nil {
					return err
				}
				return printGroupInfo(cmd, o.json, info)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&g.Mode, "mode", "", "shared (default: any member takes any message), keyed (a key's messages go to one member) or exclusive (one active member)")
	f.StringVar(&g.Filter, "filter", "", "subject pattern of the messages the group takes (default: all)")
	f.StringVar(&fromFlag, "from", "", "where the group starts: "+fromUsage+" (default: earliest)")
	f.DurationVar(&g.AckWait, "ack-wait", 0, "how long a member may hold a message before it is given again")
	f.DurationSliceVar(&g.Backoff, "backoff", nil, "delays before each redelivery after a nack (e.g. 1s,5s,30s)")
	f.IntVar(&g.MaxDeliveries, "max-deliveries", 0, "deliveries before a message is dead-lettered (0: no limit)")
	f.StringVar(&g.DeadLetter, "dead-letter", "", "subject dead letters are published to")
	f.IntVar(&g.MaxInFlight, "max-in-flight", 0, "unsettled messages per member")
	f.IntVar(&g.MaxPending, "max-pending", 0, "read-ahead bound per partition")
	return cmd
}

func groupLsCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use: "ls [STREAM]", Short: "List the groups of a stream, or of every stream", Args: cobra.MaximumNArgs(1), Aliases: []string{"list"},
		RunE: func(cmd *cobra.Command, args []string) error {
			stream := ""
			if len(args) == 1 {
				stream = args[0]
			}
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				gs, err := c.Groups(ctx, stream)
				if err != nil {
					return err
				}
				if o.json {
					out := make([]groupJSON, len(gs))
					for i, g := range gs {
						out[i] = toGroupJSON(g)
					}
					return writeJSON(cmd.OutOrStdout(), out)
				}
				t := newTable(cmd.OutOrStdout(), "STREAM", "GROUP", "KIND", "MODE", "MEMBERS", "IN FLIGHT", "LAG", "ACKED", "DEAD")
				for _, g := range gs {
					t.row(g.Config.Stream, g.Config.Name, g.Kind, orDash(g.Config.Mode), g.Members, g.InFlight, g.Lag, g.Acked, g.DeadLettered)
				}
				return t.flush()
			})
		},
	}
}

func groupInfoCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use: "info STREAM NAME", Short: "Show a group's configuration and state", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				g, err := c.Group(ctx, args[0], args[1])
				if err != nil {
					return err
				}
				return printGroupInfo(cmd, o.json, g)
			})
		},
	}
}

func groupRmCmd(o *clientOpts) *cobra.Command {
	return &cobra.Command{
		Use: "rm STREAM NAME", Short: "Delete a group", Args: cobra.ExactArgs(2), Aliases: []string{"delete"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.DeleteGroup(ctx, args[0], args[1]); err != nil {
					return err
				}
				return done(cmd, o.json, "deleted group "+args[1]+" of stream "+args[0])
			})
		},
	}
}

// groupJSON is a group in JSON output.
type groupJSON struct {
	Name          string   `json:"name"`
	Stream        string   `json:"stream"`
	Kind          string   `json:"kind"`
	Mode          string   `json:"mode,omitempty"`
	Filter        string   `json:"filter,omitempty"`
	Start         string   `json:"start,omitempty"`
	AckWait       string   `json:"ack_wait,omitempty"`
	Backoff       []string `json:"backoff,omitempty"`
	MaxDeliveries int      `json:"max_deliveries,omitempty"`
	DeadLetter    string   `json:"dead_letter,omitempty"`
	MaxInFlight   int      `json:"max_in_flight,omitempty"`
	MaxPending    int      `json:"max_pending,omitempty"`
	Members       int      `json:"members"`
	InFlight      int      `json:"in_flight"`
	Lag           int64    `json:"lag"`
	Delivered     int64    `json:"delivered"`
	Redelivered   int64    `json:"redelivered"`
	DeadLettered  int64    `json:"dead_lettered"`
	Acked         int64    `json:"acked"`
}

func toGroupJSON(g client.GroupInfo) groupJSON {
	c := g.Config
	j := groupJSON{Name: c.Name, Stream: c.Stream, Kind: g.Kind, Mode: c.Mode, Filter: c.Filter,
		AckWait: durJSON(c.AckWait), MaxDeliveries: c.MaxDeliveries, DeadLetter: c.DeadLetter,
		MaxInFlight: c.MaxInFlight, MaxPending: c.MaxPending, Members: g.Members, InFlight: g.InFlight,
		Lag: g.Lag, Delivered: g.Delivered, Redelivered: g.Redelivered, DeadLettered: g.DeadLettered, Acked: g.Acked}
	if !c.Start.IsZero() {
		j.Start = c.Start.String()
	}
	for _, d := range c.Backoff {
		j.Backoff = append(j.Backoff, d.String())
	}
	return j
}

func printGroupInfo(cmd *cobra.Command, asJSON bool, g client.GroupInfo) error {
	if asJSON {
		return writeJSON(cmd.OutOrStdout(), toGroupJSON(g))
	}
	j := toGroupJSON(g)
	t := newTable(cmd.OutOrStdout(), "GROUP", j.Name)
	t.row("stream", j.Stream)
	t.row("kind", j.Kind)
	t.row("mode", orDash(j.Mode))
	t.row("filter", orDash(j.Filter))
	t.row("start", orDash(j.Start))
	t.row("ack wait", orDash(j.AckWait))
	t.row("backoff", durations(g.Config.Backoff))
	t.row("max deliveries", limit(int64(j.MaxDeliveries), j.MaxDeliveries))
	t.row("dead letter", orDash(j.DeadLetter))
	t.row("members", j.Members)
	t.row("in flight", j.InFlight)
	t.row("lag", j.Lag)
	t.row("delivered", j.Delivered)
	t.row("redelivered", j.Redelivered)
	t.row("acked", j.Acked)
	t.row("dead lettered", j.DeadLettered)
	return t.flush()
}

func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := ""
	for i, d := range ds {
		if i > 0 {
			s += ","
		}
		s += d.String()
	}
	return s
}
