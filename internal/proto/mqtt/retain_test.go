package mqtt

import (
	"slices"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/courier-mq/courier/internal/servertest"
	"github.com/courier-mq/courier/server"
)

// TestRetained: the newest retained message per topic goes to new
// subscribers with the retain flag, an empty payload clears it, and the
// retained messages survive a restart.
func TestRetained(t *testing.T) {
	dir := t.TempDir()
	e := startEnvDir(t, dir, Options{})
	pub := e.v3(t, "pub", true)
	mustTok(t, pub.Publish("st/a", 1, true, []byte("old")))
	mustTok(t, pub.Publish("st/a", 1, true, []byte("new")))
	mustTok(t, pub.Publish("st/b", 0, true, []byte("b")))
	mustTok(t, pub.Publish("st/c", 1, true, []byte("c")))
	mustTok(t, pub.Publish("st/c", 1, true, []byte{})) // clears st/c
	mustTok(t, pub.Publish("other", 1, true, []byte("o")))

	check := func(e *testEnv, id string) {
		t.Helper()
		in := newInbox()
		sub := e.v3(t, id, true)
		mustTok(t, sub.Subscribe("st/+", 1, in.v3handler))
		got := in.wait(t, 2)
		slices.SortFunc(got, func(a, b recv) int { return cmpStr(a.topic, b.topic) })
		if len(got) != 2 || got[0].topic != "st/a" || got[0].payload != "new" || got[1].topic != "st/b" || got[1].qos != 0 {
			t.Fatalf("retained %+v", got)
		}
		for _, r := range got {
			if !r.retain {
				t.Errorf("%s without the retain flag", r.topic)
			}
		}
	}
	check(e, "s1")
	if _, err := e.srv.Compact(testCtx(t), "mqtt-retained"); err != nil {
		t.Fatal(err)
	}
	e.stop()
	e = startEnvDir(t, dir, Options{})
	check(e, "s2")
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestRetainedLiveAndHandling: a retained publish reaches current
// subscribers without the flag (unless retain as published), and retain
// handling 2 sends nothing on subscribe.
func TestRetainedLiveAndHandling(t *testing.T) {
	e := startEnv(t, Options{})
	r := e.raw(t, 5)
	r.connect("rh", true, 0)
	r.send(subscribePk(1, packets.Subscription{Filter: "live", Qos: 0}, packets.Subscription{Filter: "rap", Qos: 0, RetainAsPublished: true}))
	r.read()
	pub := e.v3(t, "pub", true)
	mustTok(t, pub.Publish("live", 1, true, []byte("l")))
	if pk := r.read(); pk.TopicName != "live" || pk.FixedHeader.Retain {
		t.Fatalf("live delivery %s retain=%v", pk.TopicName, pk.FixedHeader.Retain)
	}
	mustTok(t, pub.Publish("rap", 1, true, []byte("r")))
	if pk := r.read(); pk.TopicName != "rap" || !pk.FixedHeader.Retain {
		t.Fatalf("retain as published: %s retain=%v", pk.TopicName, pk.FixedHeader.Retain)
	}
	r.send(subscribePk(2, packets.Subscription{Filter: "live", Qos: 0, RetainHandling: 2}))
	if pk := r.read(); pk.FixedHeader.Type != packets.Suback {
		t.Fatalf("got %s", packets.PacketNames[pk.FixedHeader.Type])
	}
	r.send(subscribePk(3, packets.Subscription{Filter: "live", Qos: 0, RetainHandling: 1})) // exists already
	if pk := r.read(); pk.FixedHeader.Type != packets.Suback {
		t.Fatalf("got %s", packets.PacketNames[pk.FixedHeader.Type])
	}
	r.send(subscribePk(4, packets.Subscription{Filter: "rap", Qos: 0, RetainHandling: 0}))
	r.read()
	if pk := r.read(); pk.TopicName != "rap" || !pk.FixedHeader.Retain {
		t.Fatalf("retain handling 0: %s retain=%v", pk.TopicName, pk.FixedHeader.Retain)
	}
	if pk, err := r.next(50e6); err == nil {
		t.Fatalf("unexpected %s %s", packets.PacketNames[pk.FixedHeader.Type], pk.TopicName)
	}
	_ = paho.Connect{}
}

// TestRetainedBesideAStreamOfEverything: a stream of every subject (">")
// made before the MQTT listener starts does not stop it, since wildcards
// leave the '$' subjects of its own streams alone; retained messages
// work, and the stream of everything stores the MQTT publish.
func TestRetainedBesideAStreamOfEverything(t *testing.T) {
	dir := t.TempDir()
	srv := servertest.Start(t, dir)
	if _, err := srv.CreateStream(server.StreamConfig{Name: "all", Subjects: []string{">"}}); err != nil {
		t.Fatal(err)
	}
	e := &testEnv{srv: srv, m: New(srv.Broker, Options{}), dir: dir}
	e.addr, e.stopFn = servertest.Serve(t, srv, e.m, ErrServerClosed)
	mustTok(t, e.v3(t, "pub", true).Publish("st/a", 1, true, []byte("kept")))
	in := newInbox()
	mustTok(t, e.v3(t, "sub", true).Subscribe("st/+", 1, in.v3handler))
	if got := in.wait(t, 1); got[0].payload != "kept" || !got[0].retain {
		t.Fatalf("retained %+v", got)
	}
	if info, err := srv.StreamInfo("all"); err != nil || info.Partitions[0].Messages != 1 {
		t.Fatalf("stream of everything: %+v %v", info, err)
	}
}
