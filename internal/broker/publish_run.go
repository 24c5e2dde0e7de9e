package broker

import (
	"sync"

	"github.com/courier-mq/courier/internal/log"
)

// run is consecutive messages for one partition that share a record
// batch. Its slices are reused from one run to the next, and from one
// PublishBatchAsync call to the next (runs): the log encodes the records
// before AppendIfAsync returns and keeps none of them.
type run struct {
	p     *partition
	idx   []int // their places in the results
	msgs  []*Message
	bytes int // msgSize summed
	recs  []log.Record
	hdrs  []Header // the records' headers, one backing array
}

// runs holds idle runs, emptied of every reference to messages.
var runs = sync.Pool{New: func() any { return new(run) }}

func getRun() *run { return runs.Get().(*run) }

// putRun empties r and keeps it for a later call.
func putRun(r *run) {
	clear(r.recs[:cap(r.recs)])
	clear(r.hdrs[:cap(r.hdrs)])
	clear(r.msgs[:cap(r.msgs)])
	r.p, r.bytes = nil, 0
	r.idx, r.msgs, r.recs, r.hdrs = r.idx[:0], r.msgs[:0], r.recs[:0], r.hdrs[:0]
	runs.Put(r)
}

func (r *run) add(i int, m *Message) {
	r.idx = append(r.idx, i)
	r.msgs = append(r.msgs, m)
	r.bytes += msgSize(m)
}

// flush appends the run as one record batch and fills its results.
func (r *run) flush(out []Publishing) {
	if len(r.msgs) == 0 {
		return
	}
	p, msgs := r.p, r.msgs
	p.s.mu.RLock()
	base, wait, err := p.log.AppendIfAsync(r.records(), func(base int64) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.noteLast(msgs, base)
		return nil
	})
	p.s.mu.RUnlock()
	if err != nil {
		err = logError(err)
		for _, i := range r.idx {
			out[i].Err = err
		}
	} else {
		name, bw := p.s.cfg.Name, &batchWait{w: wait}
		for j, i := range r.idx {
			out[i] = Publishing{ack: PubAck{Stream: name, Partition: p.idx, Offset: base + int64(j)}, durable: bw}
		}
		p.s.ctr.addIn(int64(len(msgs)), int64(r.bytes))
	}
	r.p, r.msgs, r.idx, r.bytes = nil, r.msgs[:0], r.idx[:0], 0
}

// records encodes the run's messages as log records, their headers in one
// backing array and a subject's bytes shared by consecutive messages.
func (r *run) records() []log.Record {
	n := 0
	for _, m := range r.msgs {
		n += m.recordHeaderCount()
	}
	if cap(r.hdrs) < n {
		r.hdrs = make([]Header, 0, n)
	}
	hdrs := r.hdrs[:0]
	recs := r.recs[:0]
	var subj string
	var subjBytes []byte
	for _, m := range r.msgs {
		if subjBytes == nil || m.Subject != subj {
			subj, subjBytes = m.Subject, []byte(m.Subject)
		}
		at := len(hdrs)
		hdrs = m.appendRecordHeaders(hdrs, subjBytes)
		recs = append(recs, m.record(hdrs[at:len(hdrs):len(hdrs)]))
	}
	r.recs = recs
	return recs
}

// noteLast records the subjects' last offsets for a run stored at base:
// only the last of consecutive messages with one subject counts. Caller
// holds p.mu.
func (p *partition) noteLast(msgs []*Message, base int64) {
	for j, m := range msgs {
		if j+1 < len(msgs) && msgs[j+1].Subject == m.Subject {
			continue
		}
		p.last[m.Subject] = base + int64(j)
	}
}
