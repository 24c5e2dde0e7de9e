package client

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"connectrpc.com/connect/v2/connectproto"

	"github.com/courier-mq/courier/wire"
)

// The client talks to the server over the wire transport (package wire:
// Connect's RPCs on Courier's own framing, one TCP connection) when the
// server offers it, and Connect over HTTP/2 otherwise. Both carry the
// same calls; wire hands each message between fewer goroutines, which
// is what a request/reply round trip mostly waits on. WithHTTP,
// WithHTTPClient or an address that is a URL with a path or another
// scheme than http choose HTTP.

// forceHTTP makes every client talk HTTP; this package's tests set it to
// run again over HTTP (TestEverythingOverHTTP).
var forceHTTP bool

// transport returns the Connect client for c's address, probing for wire
// first.
func (c *Client) transport(ctx context.Context) (*connect.Client, error) {
	if hostport, ok := wireAddr(c.addr); ok && !c.o.http && !forceHTTP && c.o.hc == nil {
		tr := wire.NewTransport(hostport, wire.TransportOptions{
			Codec: binaryCodec{connectproto.NewBinaryCodec()}, OnHeaders: fireHeaders})
		pctx, cancel := c.withTimeout(ctx)
		err := tr.Probe(pctx)
		cancel()
		if err == nil {
			c.wire = tr
			return connect.NewClient(tr, c.o.interceptors()...), nil
		}
		tr.Close()
		if !errors.Is(err, wire.ErrNotWire) {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc, c.ownHC = newH2CClient(), true
	}
	// No compression: on the networks a broker runs on, gzip costs more
	// CPU than the bytes it saves.
	return connect.NewClient(connecthttp.NewTransport(withNotify(c.hc), baseURL(c.addr), connecthttp.WithCompressors(), codecs()),
		c.o.interceptors()...), nil
}

// withTimeout bounds ctx by the client's timeout unless it has a
// deadline.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || c.o.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.o.timeout)
}

// wireAddr returns the host:port of addr when wire can reach it: a bare
// host:port, or an http URL without a path.
func wireAddr(addr string) (string, bool) {
	if !strings.Contains(addr, "://") {
		return addr, true
	}
	u, err := url.Parse(addr)
	if err != nil || u.Scheme != "http" || strings.Trim(u.Path, "/") != "" || u.Port() == "" {
		return "", false
	}
	return u.Host, true
}

// fireHeaders tells a Subscribe waiting on a stream's headers (transport.go)
// that they arrived, or that the stream ended without them.
func fireHeaders(ctx context.Context, h *connect.Header, err error) {
	if s, ok := ctx.Value(headersKey{}).(*headersSignal); ok {
		s.set(err == nil && h.Get(subscribedHeader) != "", err)
	}
}
