package api

import (
	"context"
	"errors"
	"io"
	"time"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
	"github.com/courier-mq/courier/gen/courier/v1/courierv1connect"
	"github.com/courier-mq/courier/internal/broker"
)

// batchInFlight bounds how many messages of one PublishBatch wait for
// durability at once; the receive loop stops reading beyond it.
const batchInFlight = 1024

// messaging implements MessagingService.
type messaging struct {
	courierv1connect.UnimplementedMessagingServiceHandler
	s *Server
}

// toPublish converts a publish request into a message and expectations.
func toPublish(req *courierv1.PublishRequest) (*broker.Message, broker.Expect, error) {
	m := &broker.Message{}
	exp, err := toPublishInto(m, req)
	return m, exp, err
}

// toPublishInto is toPublish into m, which it overwrites.
func toPublishInto(m *broker.Message, req *courierv1.PublishRequest) (broker.Expect, error) {
	if req.GetMessage() == nil {
		return broker.Expect{}, invalidArg("message is required")
	}
	toBrokerInto(m, req.GetMessage())
	if d := req.GetDelay(); d != nil {
		if d.AsDuration() < 0 {
			return broker.Expect{}, invalidArg("delay %v: must not be negative", d.AsDuration())
		}
		m.DeliverAt = time.Now().Add(d.AsDuration())
	}
	return broker.Expect{LastOffset: req.ExpectLastOffset, LastSubjectOffset: req.ExpectLastSubjectOffset}, nil
}

func fromAck(a broker.PubAck) *courierv1.PublishResponse {
	return &courierv1.PublishResponse{Stream: a.Stream, Partition: int32(a.Partition),
		Offset: a.Offset, Duplicate: a.Duplicate}
}

func (h *messaging) Publish(ctx context.Context, req *courierv1.PublishRequest) (*courierv1.PublishResponse, error) {
	m, exp, err := toPublish(req)
	if err != nil {
		return nil, h.s.apiError(err)
	}
	ack, err := h.s.b.Publish(ctx, m, exp)
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return fromAck(ack), nil
}

// PublishBatch stores messages in the order received, pipelined: each is
// given its offset as it arrives (PublishAsync) while a collector waits for
// durability in order, at most batchInFlight at once.
func (h *messaging) PublishBatch(ctx context.Context, st courierv1connect.MessagingServicePublishBatchServerStream) (*courierv1.PublishBatchResponse, error) {
	pending := make(chan broker.Publishing, batchInFlight)
	collected := make(chan []*courierv1.PublishResult, 1)
	go func() { collected <- h.collect(ctx, pending) }()
	err := h.receiveBatch(st, pending)
	close(pending)
	results := <-collected
	if err != nil {
		return nil, h.s.apiError(err)
	}
	return &courierv1.PublishBatchResponse{Results: results}, nil
}

// receiveBatch reads the client's messages until it closes its side.
func (h *messaging) receiveBatch(st courierv1connect.MessagingServicePublishBatchServerStream, pending chan<- broker.Publishing) error {
	var sc storeScratch
	for {
		req, err := st.Receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, p := range h.publishAll(req.GetPublishes(), &sc) {
			pending <- p
		}
	}
}

// collect waits for each message in order and builds the results.
func (h *messaging) collect(ctx context.Context, pending <-chan broker.Publishing) []*courierv1.PublishResult {
	var out []*courierv1.PublishResult
	for p := range pending {
		out = append(out, h.result(ctx, &p, nil))
	}
	return out
}
