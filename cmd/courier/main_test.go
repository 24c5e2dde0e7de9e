package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/courier-mq/courier/server"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCLIServeOpensDataAndStops(t *testing.T) {
	data := t.TempDir()
	srv, _ := server.New(server.Options{DataDir: data})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	srv.CreateStream(server.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}})
	if _, err := srv.Publish(context.Background(), &server.Message{Subject: "orders.new", Payload: []byte("hi")}, server.Expect{}); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve returns as soon as it has started and reported
	var out bytes.Buffer
	if err := serve(ctx, []string{"--data", data, "--kafka-addr", "127.0.0.1:0"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 streams") || !strings.Contains(out.String(), "orders: 1 partitions, 1 messages") ||
		!strings.Contains(out.String(), "kafka listening on 127.0.0.1:") {
		t.Fatalf("serve said:\n%s", out.String())
	}
	if err := run([]string{"bogus"}, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestCLIReadUsers(t *testing.T) {
	path := t.TempDir() + "/users"
	os.WriteFile(path, []byte("# users\nalice:s3cret\n\nbob:pa:ss\n"), 0o600)
	u, err := readUsers(path)
	if err != nil || len(u) != 2 || u["alice"] != "s3cret" || u["bob"] != "pa:ss" {
		t.Fatalf("%v %v", u, err)
	}
	os.WriteFile(path, []byte("nocolon\n"), 0o600)
	if _, err := readUsers(path); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad line: %v", err)
	}
	if u, err := readUsers(""); u != nil || err != nil {
		t.Fatalf("no file: %v %v", u, err)
	}
}
