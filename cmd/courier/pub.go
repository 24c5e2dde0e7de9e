package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

type pubOpts struct {
	clientOpts
	key     string
	headers []string
	id      string
	delay   time.Duration
	ttl     time.Duration
	count   int
}

func newPubCmd() *cobra.Command {
	var o pubOpts
	cmd := &cobra.Command{
		Use:   "pub SUBJECT [DATA]",
		Short: "Publish a message, or one per line of stdin",
		Long: `Publish DATA to SUBJECT (--count times), or, without DATA, one message per
line read from stdin (at most --count lines when it is set). Many messages are
published asynchronously and pipelined.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				return o.run(ctx, c, args, cmd.InOrStdin(), cmd.OutOrStdout())
			})
		},
	}
	addClientFlags(cmd, &o.clientOpts)
	f := cmd.Flags()
	f.StringVarP(&o.key, "key", "k", "", "message key (picks the partition)")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "header key=value (repeatable)")
	f.StringVar(&o.id, "id", "", "message id, for de-duplication")
	f.DurationVar(&o.delay, "delay", 0, "deliver no earlier than this from now")
	f.DurationVar(&o.ttl, "ttl", 0, "message time to live (0: the stream's default)")
	f.IntVarP(&o.count, "count", "n", 0, "with DATA: publish it this many times (default 1); without: at most this many lines")
	return cmd
}

// template builds the message every publish copies.
func (o *pubOpts) template(subject string) (client.Message, error) {
	hs, err := parseHeaders(o.headers)
	if err != nil {
		return client.Message{}, err
	}
	m := client.Message{Subject: subject, ID: o.id, TTL: o.ttl}
	if o.key != "" {
		m.Key = []byte(o.key)
	}
	for _, h := range hs {
		m.Headers = append(m.Headers, client.Header{Key: h.key, Value: h.value})
	}
	return m, nil
}

func (o *pubOpts) run(ctx context.Context, c *client.Client, args []string, in io.Reader, out io.Writer) error {
	tmpl, err := o.template(args[0])
	if err != nil {
		return err
	}
	var opts []client.PubOption
	if o.delay > 0 {
		opts = append(opts, client.WithDelay(o.delay))
	}
	if len(args) == 2 && o.count <= 1 {
		m := tmpl
		m.Payload = []byte(args[1])
		ack, err := c.Publish(ctx, &m, opts...)
		if err != nil {
			return err
		}
		return printAck(out, o.json, ack)
	}
	next := payloads(args, o.count, in)
	return publishMany(ctx, c, tmpl, opts, next, out, o.json)
}

// payloads returns an iterator over what to publish: DATA count times, or
// the lines of in (at most count when count > 0). It returns false at the
// end, and an error if in fails.
func payloads(args []string, count int, in io.Reader) func() ([]byte, bool, error) {
	if len(args) == 2 {
		n := 0
		return func() ([]byte, bool, error) {
			n++
			return []byte(args[1]), n <= count, nil
		}
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	return func() ([]byte, bool, error) {
		if count > 0 && n >= count {
			return nil, false, nil
		}
		if !sc.Scan() {
			return nil, false, sc.Err()
		}
		n++
		return append([]byte(nil), sc.Bytes()...), true, nil
	}
}

// publishMany publishes asynchronously and reports each ack in order
// (JSON lines) or a summary.
func publishMany(ctx context.Context, c *client.Client, tmpl client.Message, opts []client.PubOption,
	next func() ([]byte, bool, error), out io.Writer, asJSON bool) error {
	futures := make(chan *client.PubFuture, 4096)
	done := make(chan error, 1)
	go func() { done <- collectAcks(ctx, futures, out, asJSON) }()
	var err error
	for {
		var p []byte
		var ok bool
		if p, ok, err = next(); !ok || err != nil {
			break
		}
		m := tmpl
		m.Payload = p
		futures <- c.PublishAsync(&m, opts...)
	}
	close(futures)
	if aerr := <-done; aerr != nil {
		return aerr
	}
	return err
}

// collectAcks waits for each future in order.
func collectAcks(ctx context.Context, futures <-chan *client.PubFuture, out io.Writer, asJSON bool) error {
	var n, dups int
	var first error
	for f := range futures {
		ack, err := f.Wait(ctx)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		n++
		if ack.Duplicate {
			dups++
		}
		if asJSON {
			writeJSONLine(out, ackJSON(ack))
		}
	}
	if !asJSON {
		fmt.Fprintf(out, "published %d messages", n)
		if dups > 0 {
			fmt.Fprintf(out, " (%d duplicates not stored again)", dups)
		}
		fmt.Fprintln(out)
	}
	return first
}

type pubAckJSON struct {
	Stream    string `json:"stream"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

func ackJSON(a client.PubAck) pubAckJSON {
	return pubAckJSON{a.Stream, a.Partition, a.Offset, a.Duplicate}
}

func printAck(out io.Writer, asJSON bool, ack client.PubAck) error {
	switch {
	case asJSON:
		return writeJSON(out, ackJSON(ack))
	case ack.Stream == "":
		_, err := fmt.Fprintln(out, "published (no stream captures the subject: live subscribers only)")
		return err
	case ack.Duplicate:
		_, err := fmt.Fprintf(out, "duplicate: already stored in %s partition %d at offset %d\n", ack.Stream, ack.Partition, ack.Offset)
		return err
	}
	_, err := fmt.Fprintf(out, "stored in %s partition %d at offset %d\n", ack.Stream, ack.Partition, ack.Offset)
	return err
}
