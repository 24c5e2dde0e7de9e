package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

// clientOpts are the flags every client command takes.
type clientOpts struct {
	server   string
	json     bool
	timeout  time.Duration
	user     string // --user, else COURIER_USER
	password string // --password, else COURIER_PASSWORD
}

// addClientFlags gives cmd (and its subcommands) --server, --json,
// --timeout, --user and --password.
func addClientFlags(cmd *cobra.Command, o *clientOpts) {
	def := os.Getenv("COURIER_SERVER")
	if def == "" {
		def = "localhost:7070"
	}
	f := cmd.PersistentFlags()
	f.StringVarP(&o.server, "server", "s", def, "server address host:port or URL (also COURIER_SERVER)")
	f.BoolVar(&o.json, "json", false, "print JSON instead of tables")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of each call")
	// Their defaults are read when connecting, so that --help does not
	// print the password.
	f.StringVar(&o.user, "user", "", "user to log in as, for a server started with --users-file (also COURIER_USER)")
	f.StringVar(&o.password, "password", "", "password of --user (also COURIER_PASSWORD, which other users cannot see in ps)")
}

// connect opens a client of the server.
func (o *clientOpts) connect(ctx context.Context, extra ...client.Option) (*client.Client, error) {
	opts := []client.Option{client.WithTimeout(o.timeout)}
	user, password := o.login()
	if user != "" {
		opts = append(opts, client.WithCredentials(user, password))
	}
	c, err := client.Connect(ctx, o.server, append(opts, extra...)...)
	if errors.Is(err, client.ErrUnauthenticated) {
		return nil, loginError(o.server, user, err)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return nil, fmt.Errorf("cannot find the host of %s (%s)", o.server, dns.Err)
	}
	if err != nil && refused(err) {
		return nil, fmt.Errorf("nothing listens at %s (is courier serve running? --server or COURIER_SERVER say where)", o.server)
	}
	return c, err
}

// login returns the user and password from the flags, else from the
// environment.
func (o *clientOpts) login() (user, password string) {
	user, password = o.user, o.password
	if user == "" {
		user = os.Getenv("COURIER_USER")
	}
	if password == "" {
		password = os.Getenv("COURIER_PASSWORD")
	}
	return user, password
}

// loginError says in one line that the server refused the login.
func loginError(server, user string, err error) error {
	if user == "" {
		return fmt.Errorf("%s requires a login: give --user and --password (or COURIER_USER and COURIER_PASSWORD)", server)
	}
	var ce *client.Error
	msg := err.Error()
	if errors.As(err, &ce) {
		msg = strings.TrimPrefix(ce.Message, "unauthenticated: ")
	}
	return fmt.Errorf("%s refused the login of %s: %s", server, user, msg)
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
