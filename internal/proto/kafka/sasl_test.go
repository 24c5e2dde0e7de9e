package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

var testUsers = map[string]string{"alice": "s3cret", "bob": "hunter2"}

func plainAuth(user, pass string) kgo.Opt {
	return kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism())
}

// roundTrip sends req on c and reads its answer into resp.
func (c *rawConn) roundTrip(corr int32, req kmsg.Request) kmsg.Response {
	c.t.Helper()
	if _, err := c.Write(frame(corr, req)); err != nil {
		c.t.Fatal(err)
	}
	got, body, err := c.read()
	if err != nil || got != corr {
		c.t.Fatalf("%s: corr %d: %v", kmsg.NameForKey(req.Key()), got, err)
	}
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != int16(kmsg.ApiVersions) {
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		c.t.Fatal(err)
	}
	return resp
}

func handshake(version int16, mech string) *kmsg.SASLHandshakeRequest {
	r := kmsg.NewPtrSASLHandshakeRequest()
	r.Version, r.Mechanism = version, mech
	return r
}

func authenticate(version int16, token string) *kmsg.SASLAuthenticateRequest {
	r := kmsg.NewPtrSASLAuthenticateRequest()
	r.Version, r.SASLAuthBytes = version, []byte(token)
	return r
}

func metadataReq() *kmsg.MetadataRequest {
	r := kmsg.NewPtrMetadataRequest()
	r.Version = 12
	return r
}

func TestKafkaSASLPlain(t *testing.T) {
	e := startEnv(t, Options{Users: testUsers})
	e.createStream(t, "sasl", 1)
	ctx := testCtx(t)
	cl := e.client(t, plainAuth("alice", "s3cret"), kgo.ConsumeTopics("sasl"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for i := range 3 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "sasl", Value: fmt.Append(nil, i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	recs := consume(t, ctx, cl, 3)
	for i, r := range recs {
		if string(r.Value) != fmt.Sprint(i) {
			t.Fatalf("record %d: %q", i, r.Value)
		}
	}
}

func TestKafkaSASLBadCredentials(t *testing.T) {
	e := startEnv(t, Options{Users: testUsers})
	e.createStream(t, "sasl", 1)
	for name, opt := range map[string]kgo.Opt{
		"wrong password": plainAuth("alice", "hunter2"),
		"unknown user":   plainAuth("mallory", "s3cret"),
	} {
		t.Run(name, func(t *testing.T) {
			cl := e.client(t, opt, kgo.RequestRetries(0))
			_, err := cl.Request(testCtx(t), metadataReq())
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Fatalf("metadata: %v, want SASL_AUTHENTICATION_FAILED", err)
			}
			if !strings.Contains(err.Error(), "Invalid username or password") {
				t.Errorf("error %q has no message", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "sasl", Value: []byte("x")}).FirstErr(); err == nil {
				t.Fatal("produced without authenticating")
			}
		})
	}
	if in, _ := e.srv.StreamInfo("sasl"); in.Partitions[0].HighWatermark != 0 {
		t.Fatalf("%d records produced", in.Partitions[0].HighWatermark)
	}
}

// TestKafkaSASLRequired drives the SASL states by hand.
func TestKafkaSASLRequired(t *testing.T) {
	e := startEnv(t, Options{Users: testUsers})
	t.Run("metadata before auth", func(t *testing.T) {
		c := e.dial(t)
		av := kmsg.NewPtrApiVersionsRequest()
		av.Version = 3
		keys := map[int16]bool{}
		for _, k := range c.roundTrip(1, av).(*kmsg.ApiVersionsResponse).ApiKeys {
			keys[k.ApiKey] = true
		}
		if !keys[int16(kmsg.SASLHandshake)] || !keys[int16(kmsg.SASLAuthenticate)] {
			t.Fatalf("ApiVersions lacks the SASL keys: %v", keys)
		}
		c.Write(frame(2, metadataReq()))
		c.expectClosed()
	})
	t.Run("metadata after handshake", func(t *testing.T) {
		c := e.dial(t)
		if r := c.roundTrip(1, handshake(1, "PLAIN")).(*kmsg.SASLHandshakeResponse); r.ErrorCode != 0 {
			t.Fatalf("handshake: %v", kerr.ErrorForCode(r.ErrorCode))
		}
		c.Write(frame(2, metadataReq()))
		c.expectClosed()
	})
	t.Run("unsupported mechanism", func(t *testing.T) {
		c := e.dial(t)
		r := c.roundTrip(1, handshake(1, "SCRAM-SHA-256")).(*kmsg.SASLHandshakeResponse)
		if r.ErrorCode != kerr.UnsupportedSaslMechanism.Code || len(r.SupportedMechanisms) != 1 || r.SupportedMechanisms[0] != "PLAIN" {
			t.Fatalf("answer %+v", r)
		}
		c.expectClosed()
	})
	t.Run("authenticate without handshake", func(t *testing.T) {
		c := e.dial(t)
		r := c.roundTrip(1, authenticate(2, "\x00alice\x00s3cret")).(*kmsg.SASLAuthenticateResponse)
		if r.ErrorCode != kerr.IllegalSaslState.Code {
			t.Fatalf("answer %+v", r)
		}
		c.expectClosed()
	})
	for _, tc := range []struct{ name, token, msg string }{
		{"wrong password", "\x00alice\x00nope", "Invalid username or password"},
		{"two parts", "alice\x00s3cret", "expected 3 tokens"},
		{"other authzid", "bob\x00alice\x00s3cret", "authorization id"},
		{"no password", "\x00alice\x00", "password not specified"},
		{"oversized", "\x00alice\x00" + strings.Repeat("x", 300), "over 255"},
		{"huge", strings.Repeat("x", 4000), "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(t)
			c.roundTrip(1, handshake(1, "PLAIN"))
			r := c.roundTrip(2, authenticate(1, tc.token)).(*kmsg.SASLAuthenticateResponse)
			if r.ErrorCode != kerr.SaslAuthenticationFailed.Code || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, tc.msg) {
				t.Fatalf("answer %v %v", kerr.ErrorForCode(r.ErrorCode), r.ErrorMessage)
			}
			c.expectClosed()
		})
	}
	for v := int16(0); v <= 2; v++ {
		t.Run(fmt.Sprintf("authenticate v%d", v), func(t *testing.T) {
			c := e.dial(t)
			c.roundTrip(1, handshake(1, "PLAIN"))
			r := c.roundTrip(2, authenticate(v, "alice\x00alice\x00s3cret")).(*kmsg.SASLAuthenticateResponse)
			if r.ErrorCode != 0 || r.SessionLifetimeMillis != 0 {
				t.Fatalf("answer %+v", r)
			}
			c.roundTrip(3, metadataReq())
			if r := c.roundTrip(4, handshake(1, "PLAIN")).(*kmsg.SASLHandshakeResponse); r.ErrorCode != kerr.IllegalSaslState.Code {
				t.Fatalf("second handshake: %+v", r)
			}
			c.expectClosed()
		})
	}
	t.Run("handshake v0", func(t *testing.T) {
		c := e.dial(t)
		c.roundTrip(1, handshake(0, "PLAIN"))
		tok := "\x00bob\x00hunter2"
		c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), tok...))
		var b [4]byte
		if _, err := c.Read(b[:]); err != nil || b != [4]byte{} {
			t.Fatalf("token answer %v: %v", b, err)
		}
		c.roundTrip(2, metadataReq())
	})
	t.Run("handshake v0 bad password", func(t *testing.T) {
		c := e.dial(t)
		c.roundTrip(1, handshake(0, "PLAIN"))
		tok := "\x00bob\x00nope"
		c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), tok...))
		c.expectClosed()
	})
	t.Run("large frame before auth", func(t *testing.T) {
		c := e.dial(t)
		c.Write(binary.BigEndian.AppendUint32(nil, maxUnauthFrame+1))
		c.expectClosed()
	})
}

// TestKafkaSASLDisabled: without Users, clients need no SASL and SASL
// requests get errors.
func TestKafkaSASLDisabled(t *testing.T) {
	e := startEnv(t, Options{})
	e.createStream(t, "open", 1)
	ctx := testCtx(t)
	cl := e.client(t)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "open", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c := e.dial(t)
	r := c.roundTrip(1, handshake(1, "PLAIN")).(*kmsg.SASLHandshakeResponse)
	if r.ErrorCode != kerr.UnsupportedSaslMechanism.Code || len(r.SupportedMechanisms) != 0 {
		t.Fatalf("handshake answer %+v", r)
	}
	a := c.roundTrip(2, authenticate(2, "\x00alice\x00s3cret")).(*kmsg.SASLAuthenticateResponse)
	if a.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("authenticate answer %+v", a)
	}
	c.roundTrip(3, metadataReq()) // still usable

	sc := e.client(t, plainAuth("alice", "s3cret"), kgo.RequestRetries(0))
	if _, err := sc.Request(ctx, metadataReq()); !errors.Is(err, kerr.UnsupportedSaslMechanism) {
		t.Fatalf("SASL client to a server without users: %v", err)
	}
	ctx2, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := sc.ProduceSync(ctx2, &kgo.Record{Topic: "open", Value: []byte("y")}).FirstErr(); err == nil {
		t.Fatal("a SASL client authenticated to a server without users")
	}
}

func TestKafkaSASLSarama(t *testing.T) {
	e := startEnv(t, Options{Users: testUsers})
	e.createStream(t, "ssasl", 1)
	for _, v := range []int16{sarama.SASLHandshakeV0, sarama.SASLHandshakeV1} {
		cfg := sarama.NewConfig()
		cfg.Version = sarama.V3_6_0_0
		cfg.Producer.Return.Successes = true
		cfg.Metadata.Retry.Max = 0
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		cfg.Net.SASL.Version = v
		cfg.ApiVersionsRequest = v != sarama.SASLHandshakeV0
		cfg.Net.SASL.User, cfg.Net.SASL.Password = "bob", "hunter2"
		p, err := sarama.NewSyncProducer([]string{e.addr}, cfg)
		if err != nil {
			t.Fatalf("handshake v%d: %v", v, err)
		}
		if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "ssasl", Value: sarama.StringEncoder("v")}); err != nil {
			t.Fatalf("handshake v%d: %v", v, err)
		}
		p.Close()

		cfg.Net.SASL.Password = "wrong"
		if p, err := sarama.NewSyncProducer([]string{e.addr}, cfg); err == nil {
			p.Close()
			t.Fatalf("handshake v%d: wrong password accepted", v)
		}
	}
	if in, _ := e.srv.StreamInfo("ssasl"); in.Partitions[0].HighWatermark != 2 {
		t.Fatalf("%d records, want 2", in.Partitions[0].HighWatermark)
	}
}
