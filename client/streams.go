package client

import "context"

// openStream opens a client stream under the client's context and starts
// receive on it in the background; receive gets the stream and the
// cancel that ends it. Ending the context alone leaves the request body
// open, so ending it closes the stream too (both its sides). ok is false
// when the stream could not be opened or the client is closing.
func openStream[S interface{ Close() error }](c *Client, open func(context.Context) (S, error), receive func(S, context.CancelFunc)) (st S, cancel context.CancelFunc, ok bool) {
	ctx, cancel := context.WithCancel(c.ctx)
	st, err := open(ctx)
	if err != nil {
		cancel()
		return st, nil, false
	}
	context.AfterFunc(ctx, func() { st.Close() })
	if !c.goBackground(func() { receive(st, cancel) }) {
		cancel()
		return st, nil, false
	}
	return st, cancel, true
}
