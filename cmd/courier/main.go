// Command courier runs the Courier server and, later, its command-line
// client.
//
// Today only the storage engine exists: `courier serve` opens (and
// recovers) every partition log under its data folder, reports what it
// found, and waits for SIGINT or SIGTERM to close them cleanly. The broker
// core and the protocol listeners come next.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "courier:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(out, "usage: courier serve [--data DIR]")
		return nil
	}
	switch args[0] {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serve(ctx, args[1:], out)
	}
	return fmt.Errorf("unknown command %q (try: courier serve)", args[0])
}

func serve(ctx context.Context, args []string, out io.Writer) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	data := fl.String("data", envOr("COURIER_DATA", "./data"), "data folder")
	if err := fl.Parse(args); err != nil {
		return err
	}
	st, err := openStore(*data)
	if err != nil {
		return err
	}
	st.report(out)
	fmt.Fprintln(out, "courier: storage engine only, no listeners yet; Ctrl-C to stop")
	<-ctx.Done()
	return st.close()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
