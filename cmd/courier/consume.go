package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

type consumeOpts struct {
	clientOpts
	count   int
	nack    bool
	term    bool
	ackWait time.Duration
	idle    time.Duration
}

func newConsumeCmd() *cobra.Command {
	var o consumeOpts
	cmd := &cobra.Command{
		Use:   "consume STREAM GROUP",
		Short: "Take messages from a consumer group, print and settle them",
		Long: `Join GROUP on STREAM as a member, print each message delivered to it and settle
it: ack (the default), --nack (the group gives it again after its backoff, or
dead-letters it after its max deliveries) or --term (dead-letter it at once).
--ack-wait holds each message that long before settling it, as a slow worker
would (past the group's ack wait the group gives it again). Runs until Ctrl-C
or --count messages, or (with --idle) until no message comes for that long.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.nack && o.term {
				return fmt.Errorf("--nack and --term: choose one")
			}
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				return o.run(ctx, c, args[0], args[1], cmd)
			})
		},
	}
	addClientFlags(cmd, &o.clientOpts)
	f := cmd.Flags()
	f.IntVarP(&o.count, "count", "n", 0, "stop after this many messages (0: run until Ctrl-C)")
	f.BoolVar(&o.nack, "nack", false, "nack each message instead of acking it")
	f.BoolVar(&o.term, "term", false, "terminate each message (dead-letter it) instead of acking it")
	f.DurationVar(&o.ackWait, "ack-wait", 0, "hold each message this long before settling it")
	f.DurationVar(&o.idle, "idle", 0, "stop when no message comes for this long (0: wait)")
	return cmd
}

func (o *consumeOpts) run(ctx context.Context, c *client.Client, stream, group string, cmd *cobra.Command) error {
	var opts []client.ConsumeOption
	if o.count > 0 {
		// One at a time, so that the member holds at most one message
		// past the count when it leaves (the group gives it again, and
		// counts that delivery).
		opts = append(opts, client.MaxInFlight(1))
	}
	k, err := c.Join(ctx, stream, group, opts...)
	if err != nil {
		return err
	}
	defer k.Close()
	for n := 0; o.count == 0 || n < o.count; n++ {
		d, err := o.next(ctx, k)
		if err != nil {
			if ended(ctx, err) || errors.Is(err, errIdle) {
				return nil
			}
			return err
		}
		if err := printMessage(cmd.OutOrStdout(), o.json, &d.Message); err != nil {
			return err
		}
		if err := o.settle(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

var errIdle = errors.New("idle")

// next waits for a delivery, for at most --idle when it is set.
func (o *consumeOpts) next(ctx context.Context, k *client.Consumer) (*client.Delivery, error) {
	if o.idle == 0 {
		return k.Next(ctx)
	}
	ictx, cancel := context.WithTimeout(ctx, o.idle)
	defer cancel()
	d, err := k.Next(ictx)
	if err != nil && ictx.Err() != nil && ctx.Err() == nil {
		return nil, errIdle
	}
	return d, err
}

// settle holds d for --ack-wait and then acks, nacks or terminates it.
func (o *consumeOpts) settle(ctx context.Context, d *client.Delivery) error {
	if o.ackWait > 0 {
		select {
		case <-time.After(o.ackWait):
		case <-ctx.Done():
			return nil
		}
	}
	switch {
	case o.nack:
		return d.Nack(ctx, 0)
	case o.term:
		return d.Term(ctx, "terminated by courier consume --term")
	}
	return d.Ack(ctx)
}
