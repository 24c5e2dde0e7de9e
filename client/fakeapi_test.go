package client

// A small stand-in for the native API server (internal/api) over the
// embedded broker, for testing the client until the real one lands.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	connect "connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"connectrpc.com/connect/v2/connectproto"
	"google.golang.org/protobuf/types/known/timestamppb"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/server"
)

type fakeAPI struct {
	courierv1connect.UnimplementedMessagingServiceHandler
	courierv1connect.UnimplementedAdminServiceHandler
	srv  *server.Server
	quit chan struct{}
}

// testServer is an in-process broker behind an API on 127.0.0.1.
type testServer struct {
	srv  *server.Server
	hs   *http.Server
	addr string
	api  *fakeAPI
	done chan struct{}
}

func startServer(t testing.TB, dir, addr string) *testServer {
	t.Helper()
	srv, err := server.New(server.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAPI{srv: srv, quit: make(chan struct{})}
	cs := connect.NewServer()
	courierv1connect.RegisterMessagingServiceHandler(cs, f)
	courierv1connect.RegisterAdminServiceHandler(cs, f)
	mux := http.NewServeMux()
	connecthttp.Mount(mux, cs)
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	ts := &testServer{srv: srv, hs: &http.Server{Handler: mux, Protocols: &p},
		addr: ln.Addr().String(), api: f, done: make(chan struct{})}
	go func() {
		defer close(ts.done)
		ts.hs.Serve(ln)
	}()
	return ts
}

func (ts *testServer) stop() {
	close(ts.api.quit)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.hs.Shutdown(ctx)
	<-ts.done
	ts.srv.Shutdown(ctx)
}

var fakeErrs = []struct {
	err    error
	code   connect.Code
	reason string
}{
	{server.ErrInvalid, connect.CodeInvalidArgument, "invalid_argument"},
	{server.ErrStreamNotFound, connect.CodeNotFound, "stream_not_found"},
	{server.ErrGroupNotFound, connect.CodeNotFound, "group_not_found"},
	{server.ErrStreamExists, connect.CodeAlreadyExists, "stream_exists"},
	{server.ErrWrongLastOffset, connect.CodeFailedPrecondition, "wrong_last_offset"},
	{server.ErrNoResponders, connect.CodeUnavailable, "no_responders"},
	{server.ErrAlreadySettled, connect.CodeFailedPrecondition, "already_settled"},
}

func fakeError(err error) error {
	code, reason := connect.CodeInternal, "internal"
	for _, e := range fakeErrs {
		if errors.Is(err, e.err) {
			code, reason = e.code, e.reason
			break
		}
	}
	ce := connect.NewError(code, reason+": "+err.Error())
	info := &courierv1.ErrorInfo{Reason: reason}
	var wlo *server.WrongLastOffsetError
	if errors.As(err, &wlo) {
		info.LastOffset = wlo.Actual
	}
	d, _ := connectproto.NewErrorDetail(info)
	return ce.WithDetail(d)
}

func fakeToBroker(p *courierv1.Message) *server.Message {
	m := &server.Message{Subject: p.GetSubject(), Key: p.GetKey(), Payload: p.GetPayload(),
		ReplyTo: p.GetReplyTo(), ID: p.GetId()}
	for _, h := range p.GetHeaders() {
		m.Headers = append(m.Headers, server.Header{Key: h.GetKey(), Value: append([]byte(h.GetValue()), h.GetBinaryValue()...)})
	}
	return m
}

func fakeFromBroker(m *server.Message) *courierv1.Message {
	p := &courierv1.Message{Subject: m.Subject, Key: m.Key, Payload: m.Payload, ReplyTo: m.ReplyTo,
		Id: m.ID, Stream: m.Stream, Partition: int32(m.Partition), Offset: m.Offset,
		Deliveries: int32(m.Deliveries), Time: timestamppb.New(m.Time)}
	for _, h := range m.Headers {
		p.Headers = append(p.Headers, headerToProto(Header{h.Key, string(h.Value)}))
	}
	return p
}

func (f *fakeAPI) Publish(ctx context.Context, req *courierv1.PublishRequest) (*courierv1.PublishResponse, error) {
	exp := server.Expect{LastOffset: req.ExpectLastOffset, LastSubjectOffset: req.ExpectLastSubjectOffset}
	ack, err := f.srv.Publish(ctx, fakeToBroker(req.GetMessage()), exp)
	if err != nil {
		return nil, fakeError(err)
	}
	return &courierv1.PublishResponse{Stream: ack.Stream, Partition: int32(ack.Partition), Offset: ack.Offset, Duplicate: ack.Duplicate}, nil
}

func (f *fakeAPI) PublishBatch(ctx context.Context, st courierv1connect.MessagingServicePublishBatchServerStream) (*courierv1.PublishBatchResponse, error) {
	var waits []func(context.Context) (server.PubAck, error)
	for {
		req, err := st.Receive()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		w, err := f.srv.PublishAsync(fakeToBroker(req.GetPublish().GetMessage()), server.Expect{})
		if err != nil {
			return nil, fakeError(err)
		}
		waits = append(waits, w)
	}
	res := &courierv1.PublishBatchResponse{}
	for _, w := range waits {
		ack, err := w(ctx)
		if err != nil {
			res.Results = append(res.Results, &courierv1.PublishResult{Error: &courierv1.Error{Reason: "internal", Message: err.Error()}})
			continue
		}
		res.Results = append(res.Results, &courierv1.PublishResult{Ack: &courierv1.PublishResponse{
			Stream: ack.Stream, Partition: int32(ack.Partition), Offset: ack.Offset}})
	}
	return res, nil
}

func (f *fakeAPI) Subscribe(ctx context.Context, req *courierv1.SubscribeRequest, st courierv1connect.MessagingServiceSubscribeServerStream) error {
	start := server.Start{Kind: "latest"}
	switch p := req.GetStart().GetPosition().(type) {
	case *courierv1.Start_Earliest:
		start = server.Start{Kind: "earliest"}
	case *courierv1.Start_Offset:
		start = server.Start{Kind: "offset", Offset: p.Offset}
	}
	sub, err := f.srv.Subscribe(req.GetPattern(), start, 0)
	if err != nil {
		return fakeError(err)
	}
	defer sub.Close()
	if err := st.SendHeaders(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.quit:
			return nil
		case m := <-sub.Messages():
			if err := st.Send(&courierv1.SubscribeResponse{Message: fakeFromBroker(m)}); err != nil {
				return err
			}
		}
	}
}

func (f *fakeAPI) Consume(ctx context.Context, st courierv1connect.MessagingServiceConsumeServerStream) error {
	first, err := st.Receive()
	if err != nil {
		return err
	}
	j := first.GetJoin()
	m, err := f.srv.Join(j.GetStream(), j.GetGroup(), int(j.GetMaxInFlight()))
	if err != nil {
		return fakeError(err)
	}
	defer m.Leave()
	if err := st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Joined{Joined: &courierv1.Joined{MaxInFlight: 8}}}); err != nil {
		return err
	}
	reqs := make(chan *courierv1.ConsumeRequest)
	go func() {
		defer close(reqs)
		for {
			r, err := st.Receive()
			if err != nil {
				return
			}
			select {
			case reqs <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	out := map[uint64]*server.Delivery{}
	var id uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.quit:
			return nil
		case d := <-m.C():
			id++
			out[id] = d
			if err := st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Delivery{
				Delivery: &courierv1.Delivery{DeliveryId: id, Message: fakeFromBroker(&d.Message)}}}); err != nil {
				return err
			}
		case r, ok := <-reqs:
			if !ok {
				return nil
			}
			s := r.GetSettle()
			res := &courierv1.Settled{DeliveryId: s.GetDeliveryId()}
			if d := out[s.GetDeliveryId()]; d != nil {
				var err error
				switch s.GetAction() {
				case courierv1.Settle_ACTION_ACK:
					err = d.Ack()
				case courierv1.Settle_ACTION_NACK:
					err = d.Nack(s.GetDelay().AsDuration())
				}
				if err != nil {
					res.Error = &courierv1.Error{Reason: "already_settled", Message: err.Error()}
				}
				delete(out, s.GetDeliveryId())
			} else {
				res.Error = &courierv1.Error{Reason: "already_settled", Message: "already settled"}
			}
			if err := st.Send(&courierv1.ConsumeResponse{Response: &courierv1.ConsumeResponse_Settled{Settled: res}}); err != nil {
				return err
			}
		}
	}
}

func (f *fakeAPI) Request(ctx context.Context, req *courierv1.RequestRequest) (*courierv1.RequestResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rep, err := f.srv.Request(ctx, fakeToBroker(req.GetMessage()))
	if err != nil {
		return nil, fakeError(err)
	}
	return &courierv1.RequestResponse{Reply: fakeFromBroker(rep)}, nil
}

func (f *fakeAPI) CreateStream(_ context.Context, req *courierv1.CreateStreamRequest) (*courierv1.CreateStreamResponse, error) {
	c := req.GetConfig()
	si, err := f.srv.CreateStream(server.StreamConfig{Name: c.GetName(), Subjects: c.GetSubjects(), Partitions: int(c.GetPartitions())})
	if err != nil {
		return nil, fakeError(err)
	}
	return &courierv1.CreateStreamResponse{Stream: fakeStreamInfo(si)}, nil
}

func (f *fakeAPI) GetStream(_ context.Context, req *courierv1.GetStreamRequest) (*courierv1.GetStreamResponse, error) {
	si, err := f.srv.StreamInfo(req.GetName())
	if err != nil {
		return nil, fakeError(err)
	}
	return &courierv1.GetStreamResponse{Stream: fakeStreamInfo(si)}, nil
}

func (f *fakeAPI) ListStreams(context.Context, *courierv1.ListStreamsRequest) (*courierv1.ListStreamsResponse, error) {
	res := &courierv1.ListStreamsResponse{}
	for _, si := range f.srv.Streams() {
		res.Streams = append(res.Streams, fakeStreamInfo(si))
	}
	return res, nil
}

func fakeStreamInfo(si server.StreamInfo) *courierv1.StreamInfo {
	out := &courierv1.StreamInfo{Config: &courierv1.StreamConfig{Name: si.Config.Name, Subjects: si.Config.Subjects,
		Partitions: int32(si.Config.Partitions)}}
	for _, p := range si.Partitions {
		out.Partitions = append(out.Partitions, &courierv1.PartitionInfo{Partition: int32(p.Partition),
			HighWatermark: p.HighWatermark, Messages: p.Messages})
	}
	return out
}

func (f *fakeAPI) CreateGroup(_ context.Context, req *courierv1.CreateGroupRequest) (*courierv1.CreateGroupResponse, error) {
	c := req.GetConfig()
	gi, err := f.srv.CreateGroup(server.GroupConfig{Name: c.GetName(), Stream: c.GetStream(),
		Mode: server.GroupMode(c.GetMode()), AckWait: c.GetAckWait().AsDuration()})
	if err != nil {
		return nil, fakeError(err)
	}
	return &courierv1.CreateGroupResponse{Group: &courierv1.GroupInfo{Kind: "courier",
		Config: &courierv1.GroupConfig{Name: gi.Config.Name, Stream: gi.Config.Stream, Mode: string(gi.Config.Mode)}}}, nil
}
