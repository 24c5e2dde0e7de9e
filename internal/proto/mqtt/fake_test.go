package mqtt

import (
	"bufio"
	"context"
	"net"
	"testing"
	"testing/synctest"

	"github.com/courier-mq/courier/server"
)

// fakeEnv is a server and an MQTT front-end inside a synctest bubble.
// Clients connect over net.Pipe, whose deadlines, like the front-end's
// keep-alive, will-delay and write timers, run on the bubble's fake
// clock: a test of "closed after 1.5 s" waits no real time and cannot
// be made late by a loaded machine.
type fakeEnv struct {
	t   *testing.T
	dir string
	o   Options
	srv *server.Server
	m   *Server
}

// fake runs body in a bubble with a started server on a fresh folder;
// the server is closed when body returns.
func fake(t *testing.T, o Options, body func(t *testing.T, e *fakeEnv)) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		e := &fakeEnv{t: t, dir: dir, o: o}
		e.start()
		defer func() { e.stop() }()
		body(t, e)
	})
}

// start starts a server and front-end on e's folder.
func (e *fakeEnv) start() {
	e.t.Helper()
	srv, err := server.New(server.Options{DataDir: e.dir})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.srv, e.m = srv, New(srv.Broker, e.o)
	if err := e.m.init(); err != nil {
		e.t.Fatal(err)
	}
}

// stop closes the front-end (no wills: the server went away) and the
// server; start may then start them again on the same folder.
func (e *fakeEnv) stop() {
	if e.m == nil {
		return
	}
	e.m.Close()
	e.srv.Shutdown(context.Background())
	e.srv, e.m = nil, nil
}

// raw connects a raw client over a pipe.
func (e *fakeEnv) raw(version byte) *rawClient {
	cn, sn := net.Pipe()
	e.m.ServeConn(sn)
	e.t.Cleanup(func() { cn.Close() })
	return &rawClient{t: e.t, nc: cn, br: bufio.NewReader(cn), version: version}
}

// publish publishes an empty message on subject through the server.
func (e *fakeEnv) publish(subject string) {
	e.t.Helper()
	if _, err := e.srv.Publish(context.Background(), &server.Message{Subject: subject}, server.Expect{}); err != nil {
		e.t.Fatal(err)
	}
}
