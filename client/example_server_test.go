package client_test

import (
	"context"
	"log"
	"net"
	"os"
	"time"

	"github.com/courier-mq/courier/internal/api"
	"github.com/courier-mq/courier/server"
)

// startExampleServer starts an in-process Courier server with its native
// API on 127.0.0.1 and returns its address and a function that stops it
// and removes its data.
func startExampleServer() (addr string, stop func()) {
	dir, err := os.MkdirTemp("", "courier-example-")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Options{DataDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	a := api.New(srv.Broker, api.Options{})
	served := make(chan error, 1)
	go func() { served <- a.Serve(ln) }()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Shutdown(ctx)
		<-served
		srv.Shutdown(ctx)
		os.RemoveAll(dir)
	}
}
