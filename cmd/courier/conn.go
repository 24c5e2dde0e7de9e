package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

// clientOpts are the flags every client command takes.
type clientOpts struct {
	server  string
	json    bool
	timeout time.Duration
}

// addClientFlags gives cmd (and its subcommands) --server, --json and
// --timeout.
func addClientFlags(cmd *cobra.Command, o *clientOpts) {
	def := os.Getenv("COURIER_SERVER")
	if def == "" {
		def = "localhost:7070"
	}
	f := cmd.PersistentFlags()
	f.StringVarP(&o.server, "server", "s", def, "server address host:port or URL (also COURIER_SERVER)")
	f.BoolVar(&o.json, "json", false, "print JSON instead of tables")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of each call")
}

// connect opens a client of the server.
func (o *clientOpts) connect(ctx context.Context, extra ...client.Option) (*client.Client, error) {
	opts := append([]client.Option{client.WithTimeout(o.timeout)}, extra...)
	c, err := client.Connect(ctx, o.server, opts...)
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return nil, fmt.Errorf("cannot find the host of %s (%s)", o.server, dns.Err)
	}
	if err != nil && refused(err) {
		return nil, fmt.Errorf("nothing listens at %s (is courier serve running? --server or COURIER_SERVER say where)", o.server)
	}
	return c, err
}

// withClient runs fn with a connected client and closes it after.
func (o *clientOpts) withClient(cmd *cobra.Command, fn func(context.Context, *client.Client) error) error {
	ctx := cmd.Context()
	c, err := o.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}
