package wire

import (
	"context"

	"connectrpc.com/connect/v2"
)

// A TrySend sends a response message on a handler's stream without
// waiting, or declines (false) when it would have to wait: for the
// client's credit, for another send on the stream, or for a connection
// whose peer stopped reading. A declined message was not sent; the
// caller sends it as usual (Send) from a goroutine that may wait. An
// error means the stream or connection broke.
type TrySend func(msg any) (sent bool, err error)

// TrySender returns a TrySend for the wire server stream of a handler's
// ctx, or nil on another transport. A goroutine that must not wait on
// this stream's client (one delivering another client's message) sends
// with it, which saves waking a sender goroutine.
func TrySender(ctx context.Context) TrySend {
	st, _ := ctx.Value(serverStreamKey{}).(*serverStream)
	if st == nil || st.c.w.raw == nil {
		return nil
	}
	return st.trySend
}

func (st *serverStream) trySend(msg any) (bool, error) {
	buf := getBuf()
	defer putBuf(buf)
	if err := st.c.s.codec.MarshalWrite(st.ctx, buf, msg); err != nil {
		return true, connect.NewError(connect.CodeInternal, "marshal response: "+err.Error()).WithCause(err)
	}
	cost := msgCost(buf.Len())
	if !st.out.trySpend(cost) {
		return false, nil
	}
	if !st.c.flow.out.trySpend(cost) {
		st.out.add(cost)
		return false, nil
	}
	if !st.sendMu.TryLock() {
		st.refund(cost)
		return false, nil
	}
	defer st.sendMu.Unlock()
	first := !st.sentHeaders
	sent, err := st.c.w.tryWrite(func(b []byte) []byte {
		if first {
			b = appendPayload(b, frameHeaders, st.id, st.putHeaders)
		}
		b = appendFrame(b, frameMsg, st.id, buf.Len())
		return append(b, buf.Bytes()...)
	})
	if !sent {
		st.refund(cost)
		return false, nil
	}
	st.sentHeaders = true
	st.info.SendStats = connect.MessageStats{Size: buf.Len()}
	return true, st.wrote(err)
}

// refund gives back credit spent on a message that was not sent.
func (st *serverStream) refund(cost int) {
	st.out.add(cost)
	st.c.flow.out.add(cost)
}
