package kafka

// InitProducerID, versions 0 to 4.
//
// Gives an idempotent producer a new producer ID with epoch 0. A request
// that names its current ID and epoch (v3+, KIP-360) gets the same ID with
// the next epoch, which resets its sequences. Transactional IDs are not
// supported: TRANSACTIONAL_ID_AUTHORIZATION_FAILED.

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleInitProducerID(c *conn, req *kmsg.InitProducerIDRequest) (kmsg.Response, error) {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	switch {
	case req.TransactionalID != nil:
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		resp.ProducerID, resp.ProducerEpoch = -1, -1
	case req.ProducerID >= 0 && req.ProducerEpoch >= 0 && req.ProducerEpoch < math.MaxInt16:
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
	default:
		resp.ProducerID, resp.ProducerEpoch = c.s.prod.newID(), 0
	}
	return resp, nil
}
