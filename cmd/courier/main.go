// Command courier is the Courier server and its command-line client, in
// one binary (in the manner of nats and rpk).
//
// `courier serve` runs the embedded server: the broker core on its data
// folder and every listener that exists on its default port (Kafka :9092),
// each movable or turned off by flag, COURIER_* environment variable or
// YAML file (serve.go, config.go). It prints where each listener is, logs
// through slog, and shuts down cleanly on SIGINT or SIGTERM.
//
// Every command is a cobra command built by a newXxxCmd function; the root
// (this file) turns any error into one line on stderr ("courier: ...")
// and exit status 1.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	root.AddCommand(newServeCmd())
	return root
}
