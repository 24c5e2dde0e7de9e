package api

import (
	"context"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
)

// admin implements AdminService.
type admin struct {
	courierv1connect.UnimplementedAdminServiceHandler
	s *Server
}

func (h *admin) CreateStream(_ context.Context, req *courierv1.CreateStreamRequest) (*courierv1.CreateStreamResponse, error) {
	if req.GetConfig() == nil {
		return nil, h.s.apiError(invalidArg("config is required"))
	}
	si, err := h.s.b.CreateStream(toStreamConfig(req.GetConfig()))
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.CreateStreamResponse{Stream: fromStreamInfo(si)}, nil
}

func (h *admin) UpdateStream(_ context.Context, req *courierv1.UpdateStreamRequest) (*courierv1.UpdateStreamResponse, error) {
	if req.GetConfig() == nil {
		return nil, h.s.apiError(invalidArg("config is required"))
	}
	si, err := h.s.b.UpdateStream(toStreamConfig(req.GetConfig()))
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.UpdateStreamResponse{Stream: fromStreamInfo(si)}, nil
}

func (h *admin) DeleteStream(_ context.Context, req *courierv1.DeleteStreamRequest) (*courierv1.DeleteStreamResponse, error) {
	if err := h.s.b.DeleteStream(req.GetName()); err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.DeleteStreamResponse{}, nil
}

func (h *admin) GetStream(_ context.Context, req *courierv1.GetStreamRequest) (*courierv1.GetStreamResponse, error) {
	si, err := h.s.b.StreamInfo(req.GetName())
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.GetStreamResponse{Stream: fromStreamInfo(si)}, nil
}

func (h *admin) ListStreams(context.Context, *courierv1.ListStreamsRequest) (*courierv1.ListStreamsResponse, error) {
	out := &courierv1.ListStreamsResponse{}
	for _, si := range h.s.b.Streams() {
		out.Streams = append(out.Streams, fromStreamInfo(si))
	}
	return out, nil
}

func (h *admin) PurgeStream(_ context.Context, req *courierv1.PurgeStreamRequest) (*courierv1.PurgeStreamResponse, error) {
	o := broker.PurgeOptions{All: req.GetAll(), Subject: req.GetSubject(),
		Partition: int(req.GetPartition()), UpTo: req.GetUpTo()}
	if !o.All && o.Subject == "" && o.UpTo <= 0 {
		return nil, h.s.apiError(invalidArg("purge: say what to remove: all, a subject, or a partition's messages up to an offset"))
	}
	if err := h.s.b.Purge(req.GetName(), o); err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.PurgeStreamResponse{}, nil
}

func (h *admin) CompactStream(ctx context.Context, req *courierv1.CompactStreamRequest) (*courierv1.CompactStreamResponse, error) {
	n, err := h.s.b.Compact(ctx, req.GetName())
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.CompactStreamResponse{Removed: n}, nil
}

func (h *admin) CreateGroup(_ context.Context, req *courierv1.CreateGroupRequest) (*courierv1.CreateGroupResponse, error) {
	if req.GetConfig() == nil {
		return nil, h.s.apiError(invalidArg("config is required"))
	}
	gi, err := h.s.b.CreateGroup(toGroupConfig(req.GetConfig()))
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.CreateGroupResponse{Group: fromGroupInfo(gi)}, nil
}

func (h *admin) DeleteGroup(_ context.Context, req *courierv1.DeleteGroupRequest) (*courierv1.DeleteGroupResponse, error) {
	if err := h.s.b.DeleteGroup(req.GetStream(), req.GetName()); err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.DeleteGroupResponse{}, nil
}

func (h *admin) GetGroup(_ context.Context, req *courierv1.GetGroupRequest) (*courierv1.GetGroupResponse, error) {
	gi, err := h.s.b.GroupInfo(req.GetStream(), req.GetName())
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.GetGroupResponse{Group: fromGroupInfo(gi)}, nil
}
