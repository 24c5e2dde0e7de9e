package broker

import (
	"github.com/courier-mq/courier/internal/log"
)

// readChunkBytes is how much ReadMessages reads from the log at a time.
const readChunkBytes = 1 << 20

// ReadMessages decodes up to n stored messages of a partition from
// offset (raised to the partition's start when below it), for inspecting
// a stream without a group. It returns them with the offset a next read
// starts at.
func (b *Broker) ReadMessages(stream string, part int, offset int64, n int) ([]*Message, int64, error) {
	_, l, err := b.partLogOf(stream, part)
	if err != nil {
		return nil, 0, err
	}
	next := max(offset, l.StartOffset())
	var out []*Message
	for len(out) < n {
		c, err := l.Read(next, readChunkBytes)
		if err != nil {
			return nil, 0, logError(err)
		}
		if len(c.Data) == 0 {
			break
		}
		stop := false
		err = log.DecodeRecords(c.Data, next, func(r log.Record) bool {
			out = append(out, fromRecord(&r, stream, part))
			next = r.Offset + 1
			stop = len(out) >= n
			return !stop
		})
		if err != nil {
			return nil, 0, logError(err)
		}
		if !stop {
			next = max(next, c.Next)
		}
	}
	return out, next, nil
}
