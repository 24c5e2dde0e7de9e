package log

import (
	"encoding/binary"
	"errors"
)

var errTruncatedRecord = errors.New("record truncated")

// decoder reads records from the body of a batch. It never reads past b.
type decoder struct {
	b    []byte
	err  error
	keys []string // header keys of the record before, reused when repeated
	hdrs []Header // when not nil, every record's Headers (DecodeRecordsSharing)
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncatedRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.varint()
	if d.err != nil || n < 0 {
		return nil
	}
	if n > int64(len(d.b)) {
		d.err = errTruncatedRecord
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) record(h *batchHeader) (Record, error) {
	var r Record
	size := d.varint()
	if d.err != nil || size < 1 || size > int64(len(d.b)) {
		return r, errTruncatedRecord
	}
	body := decoder{b: d.b[1:size]} // skip the attributes byte
	d.b = d.b[size:]
	r.Timestamp = h.BaseTimestamp + body.varint()
	r.Offset = h.BaseOffset + body.varint()
	r.Key = body.bytes()
	r.Value = body.bytes()
	n := body.varint()
	if n < 0 || n > int64(len(body.b)) {
		return r, errTruncatedRecord
	}
	if n > 0 {
		r.Headers = d.headers(int(n))
		for i := range r.Headers {
			r.Headers[i].Key = d.key(i, body.bytes())
			r.Headers[i].Value = body.bytes()
		}
	}
	if body.err != nil {
		return r, body.err
	}
	if r.Offset < h.BaseOffset || r.Offset > h.LastOffset() {
		return r, errors.New("record offset outside its batch")
	}
	return r, nil
}

// key returns header key i of a record as a string: the string of the
// record before's key i when it is the same (records of a batch mostly
// carry the same header keys), else a new one.
func (d *decoder) key(i int, b []byte) string {
	if i < len(d.keys) && d.keys[i] == string(b) {
		return d.keys[i]
	}
	k := string(b)
	if i < len(d.keys) {
		d.keys[i] = k
	} else if i == len(d.keys) && i < 8 {
		d.keys = append(d.keys, k)
	}
	return k
}

// headers returns a record's Headers for n headers: the shared slice
// (grown if need be), or a new one.
func (d *decoder) headers(n int) []Header {
	if d.hdrs == nil {
		return make([]Header, n)
	}
	if cap(d.hdrs) < n {
		d.hdrs = make([]Header, n)
	}
	d.hdrs = d.hdrs[:n]
	return d.hdrs
}
