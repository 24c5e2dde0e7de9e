// Command courier is the Courier server and its command-line client, in
// one binary (in the manner of nats and rpk).
//
// `courier serve` runs the embedded server: the broker core on its data
// folder and every listener that exists on its default port (the native
// API with /healthz, /readyz and /metrics on :7070, Kafka on :9092), each
// movable or turned off by flag, COURIER_* environment variable or YAML
// file (serve.go, config.go, listeners.go), with logins from a users file
// (users.go). It prints where each listener
// is, logs through slog, and shuts down cleanly on SIGINT or SIGTERM.
//
// The client commands talk to a server through the Go client (package
// client) at --server: pub, sub, consume, req, reply (pub.go, sub.go,
// consume.go, reqreply.go), the administration of streams, groups and
// dead letters (stream.go, group.go, dlq.go), and bench (bench*.go). They
// print tables (output.go) or, with --json, JSON documents or JSON lines
// of messages.
//
// Every command is a cobra command built by a newXxxCmd function; the root
// (this file) turns any error into one line on stderr ("courier: ...",
// errors.go) and exit status 1. cobra provides `courier completion`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process's exit status.
func run(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errw)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(errw, "courier:", describe(err))
		return 1
	}
	return 0
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "courier",
		Short:         "Courier: a messaging broker and its command-line client",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.AddCommand(newServeCmd(), newPubCmd(), newSubCmd(), newConsumeCmd(), newReqCmd(), newReplyCmd(),
		newStreamCmd(), newGroupCmd(), newDLQCmd(), newBenchCmd())
	// cobra adds `courier completion bash|zsh|fish|powershell`.
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError(cmd, err) })
	withUsage(root)
	return root
}

// withUsage makes the argument checks of c and its subcommands say how
// the command is used.
func withUsage(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError(cmd, err)
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		withUsage(sub)
	}
}

func usageError(cmd *cobra.Command, err error) error {
	return fmt.Errorf("%s: %v (usage: %s)", strings.TrimPrefix(cmd.CommandPath(), "courier "), err, cmd.UseLine())
}
