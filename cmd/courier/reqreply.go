package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

type reqOpts struct {
	clientOpts
	headers []string
}

func newReqCmd() *cobra.Command {
	var o reqOpts
	cmd := &cobra.Command{
		Use:   "req SUBJECT DATA",
		Short: "Send a request and print the reply",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			hs, err := parseHeaders(o.headers)
			if err != nil {
				return err
			}
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				m := &client.Message{Subject: args[0], Payload: []byte(args[1])}
				for _, h := range hs {
					m.Headers = append(m.Headers, client.Header{Key: h.key, Value: h.value})
				}
				ctx, cancel := context.WithTimeout(ctx, o.timeout)
				defer cancel()
				r, err := c.Request(ctx, m)
				if errors.Is(err, client.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
					return fmt.Errorf("no reply to %s within %v", args[0], o.timeout)
				}
				if err != nil {
					return err
				}
				if o.json {
					return writeJSON(cmd.OutOrStdout(), toMessageJSON(r))
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", r.Payload)
				return err
			})
		},
	}
	addClientFlags(cmd, &o.clientOpts)
	cmd.Flags().StringArrayVarP(&o.headers, "header", "H", nil, "header key=value (repeatable)")
	return cmd
}

type replyOpts struct {
	clientOpts
	command string
	count   int
}

func newReplyCmd() *cobra.Command {
	var o replyOpts
	cmd := &cobra.Command{
		Use:   "reply SUBJECT",
		Short: "Answer requests: echo them, or run a command per request",
		Long: `Answer every request sent to SUBJECT (a subject or pattern): with its own
payload (echo), or with the standard output of --command, run through sh -c
once per request with the request's payload on its standard input. Runs until
Ctrl-C or --count requests.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				return o.run(ctx, c, args[0], cmd)
			})
		},
	}
	addClientFlags(cmd, &o.clientOpts)
	cmd.Flags().StringVarP(&o.command, "command", "c", "", "shell command run per request: payload on stdin, reply from stdout")
	cmd.Flags().IntVarP(&o.count, "count", "n", 0, "stop after this many requests (0: run until Ctrl-C)")
	return cmd
}

func (o *replyOpts) run(ctx context.Context, c *client.Client, subject string, cmd *cobra.Command) error {
	sub, err := c.Subscribe(ctx, subject, client.Start{})
	if err != nil {
		return err
	}
	defer sub.Close()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "courier: answering requests on %s\n", subject)
	for n := 0; o.count == 0 || n < o.count; {
		req, err := sub.Next(ctx)
		if err != nil {
			if ended(ctx, err) {
				return nil
			}
			return err
		}
		if req.ReplyTo == "" {
			continue // a plain publish, not a request
		}
		n++
		if err := o.answer(ctx, c, req); err != nil {
			return err
		}
		if !o.json {
			fmt.Fprintf(out, "answered %s (%d bytes)\n", req.Subject, len(req.Payload))
		} else if err := writeJSONLine(out, toMessageJSON(req)); err != nil {
			return err
		}
	}
	return nil
}

// answer replies to req with its payload or with --command's output; a
// command that fails is answered with its error in an "error" header.
func (o *replyOpts) answer(ctx context.Context, c *client.Client, req *client.Message) error {
	resp := &client.Message{Payload: req.Payload}
	if o.command != "" {
		out, err := runCommand(ctx, o.command, req.Payload, o.timeout)
		resp.Payload = out
		if err != nil {
			resp.Headers = []client.Header{{Key: "error", Value: err.Error()}}
		}
	}
	return c.Reply(ctx, req, resp)
}

// runCommand runs sh -c command with in on stdin and returns its stdout.
func runCommand(ctx context.Context, command string, in []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %v: %s", command, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}
