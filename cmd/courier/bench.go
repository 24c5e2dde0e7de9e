package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-mq/courier/client"
	"github.com/spf13/cobra"
)

type benchOpts struct {
	clientOpts
	stream, subject, group string
	pubs, subs, partitions int
	inFlight, rate         int
	plain                  bool
	size, msgs             int64
	duration               time.Duration
}

func newBenchCmd() *cobra.Command {
	o := benchOpts{size: 128}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure publish and consume throughput and latency",
		Long: `Publish --msgs messages (or for --duration) from --pubs publishers (async,
pipelined) into --stream, while --subs consumers take them: members of a shared
group that ack every message, or with --plain subscribers that each see every
message. The stream (capturing --subject) and the group are created unless they
exist. Prints throughput and the publish-ack and end-to-end latency percentiles.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(cmd); err != nil {
				return err
			}
			r, err := o.run(cmd.Context(), progressOut(cmd, o.json))
			if err != nil {
				return err
			}
			if o.json {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			r.print(cmd.OutOrStdout())
			return nil
		},
	}
	addClientFlags(cmd, &o.clientOpts)
	f := cmd.Flags()
	f.StringVar(&o.stream, "stream", "bench", "stream to publish into (created unless it exists)")
	f.StringVar(&o.subject, "subject", "bench.data", "subject to publish to")
	f.StringVar(&o.group, "group", "bench", "shared group the consumers join (created unless it exists)")
	f.IntVar(&o.pubs, "pubs", 1, "publishers")
	f.IntVar(&o.subs, "subs", 1, "consumers (0: publish only)")
	f.BoolVar(&o.plain, "plain", false, "consumers are plain subscribers instead of members of a shared group")
	f.IntVar(&o.partitions, "partitions", 1, "partitions of the stream when bench creates it")
	f.Var(sizeFlag{&o.size}, "size", "message size (e.g. 128, 1KiB)")
	f.Int64Var(&o.msgs, "msgs", 100_000, "messages to publish in all")
	f.DurationVar(&o.duration, "duration", 0, "publish for this long instead of --msgs messages")
	f.IntVar(&o.inFlight, "in-flight", 0, "async publishes awaiting their ack, per publisher (default: the client's, 16384)")
	f.IntVar(&o.rate, "rate", 0, "messages per second in all (0: as fast as acks allow)")
	return cmd
}

func (o *benchOpts) validate(cmd *cobra.Command) error {
	switch {
	case o.size < stampSize:
		return fmt.Errorf("--size %d: at least %d bytes (the time stamp)", o.size, stampSize)
	case o.pubs < 1 || o.subs < 0:
		return fmt.Errorf("--pubs must be 1 or more and --subs 0 or more")
	case o.duration > 0 && cmd.Flags().Changed("msgs"):
		return fmt.Errorf("--msgs and --duration: choose one")
	case o.duration == 0 && o.msgs < 1:
		return fmt.Errorf("--msgs must be 1 or more")
	case o.inFlight < 0 || o.rate < 0:
		return fmt.Errorf("--in-flight and --rate must be 0 or more")
	}
	return nil
}

// benchRun is one run's shared state.
type benchRun struct {
	o                  *benchOpts
	id                 uint64
	published, pubErrs atomic.Int64
	received           atomic.Int64
	lastRecv           atomic.Int64 // Unix nanos of the last message received
	pubLat, e2eLat     *latencies
	firstErr           error
	errOnce            sync.Once
}

func (b *benchRun) fail(err error) { b.errOnce.Do(func() { b.firstErr = err }) }

func (o *benchOpts) run(ctx context.Context, progress io.Writer) (*benchResult, error) {
	if err := o.prepare(ctx); err != nil {
		return nil, err
	}
	b := &benchRun{o: o, id: rand.Uint64(), pubLat: newLatencies(), e2eLat: newLatencies()}
	cctx, stopConsumers := context.WithCancel(ctx)
	var consumers sync.WaitGroup
	if err := b.startConsumers(cctx, &consumers); err != nil {
		stopConsumers()
		consumers.Wait()
		return nil, err
	}
	stopProgress := b.showProgress(progress)
	start := time.Now()
	b.publish(ctx)
	pubTime := time.Since(start)
	b.drain(ctx)
	stopProgress()
	stopConsumers()
	consumers.Wait()
	if b.firstErr != nil && b.published.Load() == 0 {
		return nil, b.firstErr
	}
	r := b.result(pubTime, time.Unix(0, b.lastRecv.Load()).Sub(start))
	if b.firstErr != nil {
		r.Error = describe(b.firstErr)
	}
	return r, nil
}

// prepare creates the stream and the group unless they exist.
func (o *benchOpts) prepare(ctx context.Context) error {
	c, err := o.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.CreateStream(ctx, client.StreamConfig{Name: o.stream, Subjects: []string{o.subject}, Partitions: o.partitions})
	if err != nil && !errors.Is(err, client.ErrStreamExists) {
		return err
	}
	if o.subs == 0 || o.plain {
		return nil
	}
	_, err = c.CreateGroup(ctx, client.GroupConfig{Name: o.group, Stream: o.stream, Start: client.StartLatest()})
	if err != nil && !errors.Is(err, client.ErrGroupExists) {
		return err
	}
	return nil
}

// expected is how many messages the consumers should receive.
func (b *benchRun) expected() int64 {
	if b.o.plain {
		return b.published.Load() * int64(b.o.subs)
	}
	return b.published.Load()
}

// drain waits until the consumers have received every published message,
// or until nothing has arrived for 5 seconds.
func (b *benchRun) drain(ctx context.Context) {
	if b.o.subs == 0 {
		return
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	last, since := b.received.Load(), time.Now()
	for b.received.Load() < b.expected() && ctx.Err() == nil {
		<-tick.C
		if n := b.received.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 5*time.Second {
			return
		}
	}
}

func (b *benchRun) result(pubTime, subTime time.Duration) *benchResult {
	o := b.o
	r := &benchResult{Stream: o.stream, Subject: o.subject, Pubs: o.pubs, Subs: o.subs, Plain: o.plain, Size: int(o.size),
		Seconds: max(pubTime, subTime).Seconds(), Published: b.published.Load(), PublishErrors: b.pubErrs.Load(),
		Received: b.received.Load(), PubAck: b.pubLat.summary(), EndToEnd: b.e2eLat.summary()}
	r.rates(pubTime, subTime)
	return r
}

// progressOut is where the progress line goes: stdout when it is a
// terminal and the output is not JSON, else nowhere.
func progressOut(cmd *cobra.Command, asJSON bool) io.Writer {
	if f, ok := cmd.OutOrStdout().(*os.File); ok && !asJSON && isTerminal(f) {
		return f
	}
	return nil
}

// showProgress redraws one progress line on w every 200ms until the
// returned function is called; w nil shows nothing.
func (b *benchRun) showProgress(w io.Writer) func() {
	if w == nil {
		return func() {}
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
				fmt.Fprintf(w, "\r\033[K%s", b.progressLine())
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// progressLine is a bar of the share done (of the messages to receive,
// or to publish when nothing consumes) and the counts.
func (b *benchRun) progressLine() string {
	pub, recv := b.published.Load(), b.received.Load()
	if b.o.duration > 0 {
		return fmt.Sprintf("published %d  received %d", pub, recv)
	}
	done, total := pub, b.o.msgs
	if b.o.subs > 0 {
		done = recv
		if b.o.plain {
			total *= int64(b.o.subs)
		}
	}
	const width = 30
	filled := int(min(int64(width)*done/total, width))
	bar := strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
	return fmt.Sprintf("[%s] published %d/%d  received %d", bar, pub, b.o.msgs, recv)
}
