package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	clog "github.com/courier-mq/courier/internal/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawConn is a client socket for requests built by hand.
type rawConn struct {
	t *testing.T
	net.Conn
}

func (e *testEnv) dial(t *testing.T) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &rawConn{t, c}
}

// frame encodes a request with its header (v1, or v2 if flexible).
func frame(corr int32, req kmsg.Request) []byte {
	b := make([]byte, 4, 64)
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "test"...)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// read reads one response frame and returns its correlation id and body.
func (c *rawConn) read() (int32, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return 0, nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return 0, nil, err
	}
	return int32(binary.BigEndian.Uint32(body)), body[4:], nil
}

// expectClosed checks that the server closes the connection without
// answering.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	if _, _, err := c.read(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if !errors.As(err, &ne) || ne.Timeout() {
			c.t.Fatalf("connection not closed: %v", err)
		}
	}
}

func TestKafkaBadFrames(t *testing.T) {
	e := startEnv(t, Options{MaxFrameBytes: 1 << 20})
	meta := kmsg.NewPtrMetadataRequest()
	meta.Version = 12
	valid := frame(1, meta)
	for name, b := range map[string][]byte{
		"absurd size":       {0x7f, 0xff, 0xff, 0xff, 0, 3},
		"over the limit":    binary.BigEndian.AppendUint32(nil, 1<<20+1),
		"negative size":     {0xff, 0xff, 0xff, 0xf0},
		"too small":         {0, 0, 0, 2, 0, 3},
		"unknown key":       {0, 0, 0, 10, 0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0, 0},
		"key 4 (internal)":  {0, 0, 0, 10, 0, 4, 0, 0, 0, 0, 0, 1, 0xff, 0xff},
		"produce v2":        {0, 0, 0, 10, 0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff},
		"metadata v99":      {0, 0, 0, 10, 0, 3, 0, 99, 0, 0, 0, 1, 0xff, 0xff},
		"truncated body":    append(binary.BigEndian.AppendUint32(nil, 12), valid[4:16]...),
		"client id too big": {0, 0, 0, 10, 0, 3, 0, 1, 0, 0, 0, 1, 0x7f, 0xff},
	} {
		t.Run(name, func(t *testing.T) {
			c := e.dial(t)
			c.Write(b)
			c.expectClosed()
		})
	}
	t.Run("size then silence", func(t *testing.T) {
		c := e.dial(t)
		c.Write(binary.BigEndian.AppendUint32(nil, 1000))
		c.Write(make([]byte, 10))
		c.Close() // the server must give up on the frame, not leak
	})
}

// TestKafkaApiVersionsTooNew checks the UNSUPPORTED_VERSION answer (v0)
// and that the connection stays usable.
func TestKafkaApiVersionsTooNew(t *testing.T) {
	e := startEnv(t, Options{})
	c := e.dial(t)
	c.Write([]byte{0, 0, 0, 10, 0, 18, 0, 99, 0, 0, 0, 7, 0xff, 0xff})
	corr, body, err := c.read()
	if err != nil || corr != 7 {
		t.Fatalf("corr %d: %v", corr, err)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) != len(apis) {
		t.Fatalf("answer %+v", resp)
	}
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 4
	c.Write(frame(8, req))
	if corr, _, err := c.read(); err != nil || corr != 8 {
		t.Fatalf("after: corr %d: %v", corr, err)
	}
}

// TestKafkaPipelining sends several requests at once; the answers come
// in order.
func TestKafkaPipelining(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "pipe", 1)
	c := e.dial(t)
	var b []byte
	for i := range int32(20) {
		var req kmsg.Request
		switch i % 3 {
		case 0:
			req = kmsg.NewPtrApiVersionsRequest()
			req.SetVersion(3)
		case 1:
			req = kmsg.NewPtrMetadataRequest()
			req.SetVersion(int16(i % 13))
		case 2:
			req = fetchReq("pipe", 0, 20, 1)
			req.SetVersion(int16(4 + i%9))
		}
		b = append(b, frame(i, req)...)
	}
	c.Write(b)
	for i := range int32(20) {
		corr, _, err := c.read()
		if err != nil || corr != i {
			t.Fatalf("response %d: corr %d, %v", i, corr, err)
		}
	}
}

// batch builds an uncompressed RecordBatch v2 with one record per value.
func batch(values ...string) []byte {
	var recs []byte
	for i, v := range values {
		r := kmsg.NewRecord()
		r.OffsetDelta, r.Value = int32(i), []byte(v)
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		recs = r.AppendTo(recs)
	}
	b := kmsg.NewRecordBatch()
	b.Magic, b.LastOffsetDelta, b.NumRecords = 2, int32(len(values)-1), int32(len(values))
	b.ProducerID, b.ProducerEpoch, b.FirstSequence = -1, -1, -1
	b.FirstTimestamp, b.MaxTimestamp = time.Now().UnixMilli(), time.Now().UnixMilli()
	b.Records = recs
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[clog.OffBatchLength:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[clog.OffCRC:], crc32.Checksum(out[clog.OffAttributes:], castagnoli))
	return out
}

func TestKafkaProduceBadBatches(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "bb", 1)
	good := batch("a", "b")
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	recrc := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[clog.OffCRC:], crc32.Checksum(b[clog.OffAttributes:], castagnoli))
		return b
	}
	cases := []struct {
		name  string
		topic string
		part  int32
		b     []byte
		code  int16
	}{
		{"good", "bb", 0, good, 0},
		{"crc", "bb", 0, mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), kerr.CorruptMessage.Code},
		{"magic", "bb", 0, mutate(func(b []byte) []byte { b[clog.OffMagic] = 1; return b }), kerr.CorruptMessage.Code},
		{"short", "bb", 0, good[:40], kerr.CorruptMessage.Code},
		{"length", "bb", 0, mutate(func(b []byte) []byte { return b[:len(b)-1] }), kerr.CorruptMessage.Code},
		{"two batches", "bb", 0, append(bytes.Clone(good), good...), kerr.InvalidRecord.Code},
		{"count", "bb", 0, mutate(func(b []byte) []byte { b[clog.OffRecordCount+3] = 5; return recrc(b) }), kerr.InvalidRecord.Code},
		{"control", "bb", 0, mutate(func(b []byte) []byte { b[clog.OffAttributes+1] |= 0x20; return recrc(b) }), kerr.InvalidRecord.Code},
		{"codec 7", "bb", 0, mutate(func(b []byte) []byte { b[clog.OffAttributes+1] |= 7; return recrc(b) }), kerr.UnsupportedCompressionType.Code},
		{"partition", "bb", 3, good, kerr.UnknownTopicOrPartition.Code},
		{"topic", "nope", 0, good, kerr.UnknownTopicOrPartition.Code},
		{"dotted", "a.b", 0, good, kerr.InvalidTopicException.Code},
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 9, -1, 5000
	for _, tc := range cases {
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = tc.topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = tc.part, tc.b
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(testCtx(t), e.client(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		if got := resp.Topics[i].Partitions[0].ErrorCode; got != tc.code {
			t.Errorf("%s: code %v, want %v", tc.name, kerr.ErrorForCode(got), kerr.ErrorForCode(tc.code))
		}
	}
	if in, _ := e.srv.StreamInfo("bb"); in.Partitions[0].HighWatermark != 2 {
		t.Fatalf("hw %d, want only the good batch", in.Partitions[0].HighWatermark)
	}
	// acks=0 with a failure closes the connection.
	c := e.dial(t)
	req.Acks, req.Topics = 0, req.Topics[1:2]
	c.Write(frame(1, req))
	c.expectClosed()
}

// TestKafkaIdempotentRetry sends the same idempotent batch twice: it is
// stored once and both answers carry its offset; a gap is refused.
func TestKafkaIdempotentRetry(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "idem", 1)
	cl := e.client(t)
	ctx := testCtx(t)
	produce := idempotentProducer(t, ctx, cl, "idem")
	if p := produce(0); p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("first: %+v", p)
	}
	if p := produce(2); p.ErrorCode != 0 || p.BaseOffset != 2 {
		t.Fatalf("second: %+v", p)
	}
	if p := produce(0); p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("retry of first: %+v", p)
	}
	if p := produce(7); p.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap: %+v", p)
	}
	if in, _ := e.srv.StreamInfo("idem"); in.Partitions[0].HighWatermark != 4 {
		t.Fatalf("hw %d", in.Partitions[0].HighWatermark)
	}
}
