package client

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/wire"
)

// Client is a connection to a Courier server's native API. It is safe for
// concurrent use; Close it when done.
type Client struct {
	addr  string // as given, for messages
	o     options
	hc    *http.Client
	ownHC bool
	wire  *wire.Transport // nil when the client talks HTTP
	msg   courierv1connect.MessagingServiceClient
	adm   courierv1connect.AdminServiceClient

	ctx    context.Context // ends at Close; background work runs under it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	pubOnce sync.Once
	pub     *asyncPublisher

	replies  replyStream   // Reply's stream (reply.go)
	requests requestStream // Request's stream (request_stream.go)

	mu     sync.Mutex
	closed bool
}

type options struct {
	timeout     time.Duration
	retries     int
	backoff     time.Duration
	hc          *http.Client
	http        bool // WithHTTP
	maxInFlight int
	batchSize   int
	linger      time.Duration
	lanes       int
	log         *slog.Logger
	// authorization is the Authorization header of every call
	// (WithCredentials; auth.go).
	authorization string
}

// Option configures Connect.
type Option func(*options)

// WithTimeout sets the default timeout of a unary call whose context has
// no deadline (default 30s; 0 for none).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithRetries retries a unary call up to n times when the server is
// unavailable, waiting backoff, then twice as long each time (capped at
// 5s). Default 5 retries from 50ms. A retried publish may be stored
// twice if the first attempt reached the server: give messages an ID to
// have the stream drop the copy.
func WithRetries(n int, backoff time.Duration) Option {
	return func(o *options) { o.retries, o.backoff = n, backoff }
}

// WithHTTPClient uses hc instead of the client's own h2c HTTP client. It
// must speak HTTP/2 for Consume (a bidirectional stream) to work.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithHTTP makes the client talk Connect over HTTP/2 even when the
// server offers the wire transport (see Connect).
func WithHTTP() Option { return func(o *options) { o.http = true } }

// WithMaxInFlight bounds the async publishes not yet answered (default
// 16384); PublishAsync blocks while that many are pending.
func WithMaxInFlight(n int) Option { return func(o *options) { o.maxInFlight = n } }

// WithBatch sets how async publishes are batched: at most size messages
// per batch (default 1024), and how long the sender waits for more
// before sending a batch that is not full (default 0: send what is
// pending as soon as the lane can take another batch).
func WithBatch(size int, linger time.Duration) Option {
	return func(o *options) { o.batchSize, o.linger = size, linger }
}

// WithLanes sets how many streams async publishes are spread over
// (default 4), each pipelining several batches. Messages go to a lane by
// key (or subject when they have no key), so messages with the same key
// or subject stay in order; WithLanes(1) keeps the order of every async
// publish.
func WithLanes(n int) Option { return func(o *options) { o.lanes = n } }

// WithLogger logs reconnects and background failures to l.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func defaultOptions() options {
	return options{
		timeout: 30 * time.Second, retries: 5, backoff: 50 * time.Millisecond,
		maxInFlight: 16384, batchSize: 1024, lanes: 4,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// Connect returns a client of the server at addr ("host:port" or a URL
// such as "http://host:port") after checking that the server answers. A
// refused connection gives an error that says nothing listens at addr.
func Connect(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	o.normalize()
	c := &Client{addr: addr, o: o, hc: o.hc}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	cc, err := c.transport(ctx)
	if err != nil {
		c.Close()
		return nil, toError(notListening(err, c.addr))
	}
	c.msg = courierv1connect.NewMessagingServiceClient(cc)
	c.adm = courierv1connect.NewAdminServiceClient(cc)
	if err := c.ping(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (o *options) normalize() {
	if o.maxInFlight <= 0 {
		o.maxInFlight = 16384
	}
	if o.batchSize <= 0 {
		o.batchSize = 1024
	}
	if o.lanes <= 0 {
		o.lanes = 1
	}
	if o.backoff <= 0 {
		o.backoff = 50 * time.Millisecond
	}
	if o.log == nil {
		o.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// ping checks that the server answers, without retrying.
func (c *Client) ping(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok && c.o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		defer cancel()
	}
	_, err := c.adm.ListStreams(ctx, &courierv1.ListStreamsRequest{})
	if err != nil {
		return toError(notListening(err, c.addr))
	}
	return nil
}

func newH2CClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:         &p,
		ForceAttemptHTTP2: true,
		MaxIdleConns:      16,
		IdleConnTimeout:   90 * time.Second,
	}}
}

// baseURL turns "host:port" into "http://host:port"; URLs pass through.
func baseURL(addr string) string {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return strings.TrimRight(addr, "/")
}

// Addr returns the address the client was connected with.
func (c *Client) Addr() string { return c.addr }

// Close waits for the async publishes so far (as Flush), then ends every
// subscription and consumer of the client and releases its connections.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	pub := c.pub
	c.mu.Unlock()
	var err error
	if pub != nil {
		err = pub.close()
	}
	c.replies.flush(replyFlushWait)
	c.cancel()
	c.wg.Wait()
	if c.wire != nil {
		c.wire.Close()
	}
	if c.ownHC {
		c.hc.CloseIdleConnections()
	}
	return err
}

// isClosed reports whether Close was called.
func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// goBackground runs fn in a goroutine that Close waits for; it reports
// false, running nothing, once the client is closed.
func (c *Client) goBackground(fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn()
	}()
	return true
}

// unary runs a unary call with the default timeout and the retry policy.
func unary[Req, Res any](c *Client, ctx context.Context, fn func(context.Context, *Req) (*Res, error), req *Req) (*Res, error) {
	if c.isClosed() {
		return nil, errorf(ErrClosed, "client is closed")
	}
	if _, ok := ctx.Deadline(); !ok && c.o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.timeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		res, err := fn(ctx, req)
		if err == nil {
			return res, nil
		}
		if attempt >= c.o.retries || !isUnavailable(err) {
			return nil, c.wrap(ctx, err)
		}
		if werr := sleep(ctx, backoff(c.o.backoff, attempt)); werr != nil {
			return nil, c.wrap(ctx, err)
		}
	}
}

// wrap converts err, saying nothing listens at the address for a refused
// connection.
func (c *Client) wrap(ctx context.Context, err error) error {
	if ctx.Err() != nil && !fromServer(err) {
		return ctx.Err()
	}
	return toError(notListening(err, c.addr))
}

// backoff returns base·2^attempt, capped at 5s.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 0; i < attempt && d < 5*time.Second; i++ {
		d *= 2
	}
	return min(d, 5*time.Second)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
