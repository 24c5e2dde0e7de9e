package api

import (
	"context"
	"sort"

	courierv1 "github.com/courier-mq/courier/gen/courier/v1"
)

// defaultReadMessages and maxReadMessages bound ReadMessages.
const (
	defaultReadMessages = 100
	maxReadMessages     = 10000
)

// ListGroups lists Courier groups, then Kafka consumer groups (their
// committed offsets) with kind "kafka": name, stream and lag only.
func (h *admin) ListGroups(_ context.Context, req *courierv1.ListGroupsRequest) (*courierv1.ListGroupsResponse, error) {
	if req.GetStream() != "" {
		if _, err := h.s.b.StreamInfo(req.GetStream()); err != nil {
			return nil, h.s.apiError(err)
		}
	}
	out := &courierv1.ListGroupsResponse{}
	for _, gi := range h.s.b.Groups(req.GetStream()) {
		out.Groups = append(out.Groups, fromGroupInfo(gi))
	}
	kafka, err := h.kafkaGroups(req.GetStream())
	if err != nil {
		return nil, h.s.apiError(err)
	}
	out.Groups = append(out.Groups, kafka...)
	return out, nil
}

// kafkaGroups lists the Kafka consumer groups with commits, one entry per
// group and stream, with the lag summed over partitions.
func (h *admin) kafkaGroups(stream string) ([]*courierv1.GroupInfo, error) {
	names, err := h.s.b.CommitGroups()
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*courierv1.GroupInfo
	for _, g := range names {
		cs, err := h.s.b.Committed(g, stream)
		if err != nil {
			return nil, err
		}
		streams := map[string]bool{}
		for _, c := range cs {
			streams[c.Stream] = true
		}
		for _, st := range sortedKeys(streams) {
			lag, err := h.s.b.CommitLag(g, st)
			if err != nil {
				continue // the stream went away since the commit
			}
			var total int64
			for _, l := range lag {
				total += l
			}
			out = append(out, &courierv1.GroupInfo{Kind: "kafka", Lag: total,
				Config: &courierv1.GroupConfig{Name: g, Stream: st}})
		}
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ReadMessages reads one partition's stored messages from an offset.
func (h *admin) ReadMessages(_ context.Context, req *courierv1.ReadMessagesRequest) (*courierv1.ReadMessagesResponse, error) {
	n := int(req.GetMaxMessages())
	if n <= 0 {
		n = defaultReadMessages
	}
	n = min(n, maxReadMessages)
	msgs, next, err := h.s.b.ReadMessages(req.GetStream(), int(req.GetPartition()), req.GetOffset(), n)
	if err != nil {
		return nil, h.s.apiError(err)
	}
	out := &courierv1.ReadMessagesResponse{NextOffset: next}
	for _, m := range msgs {
		out.Messages = append(out.Messages, fromBroker(m))
	}
	return out, nil
}

// Redrive republishes a dead-letter stream's letters to their subjects:
// one partition, or every partition when none is given.
func (h *admin) Redrive(ctx context.Context, req *courierv1.RedriveRequest) (*courierv1.RedriveResponse, error) {
	to := req.GetToOffset()
	if to == 0 {
		to = -1
	}
	parts := []int{int(req.GetPartition())}
	if req.Partition == nil {
		si, err := h.s.b.StreamInfo(req.GetStream())
		if err != nil {
			return nil, h.s.apiError(err)
		}
		parts = parts[:0]
		for _, p := range si.Partitions {
			parts = append(parts, p.Partition)
		}
	}
	out := &courierv1.RedriveResponse{}
	for _, p := range parts {
		r, err := h.s.b.Redrive(ctx, req.GetStream(), p, req.GetFromOffset(), to)
		out.Moved += int64(r.Moved)
		out.Skipped += int64(r.Skipped)
		if err != nil {
			return nil, h.s.apiError(err)
		}
	}
	return out, nil
}
