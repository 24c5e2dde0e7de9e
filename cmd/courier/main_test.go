package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/courier-mq/courier/internal/log"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCLIServeOpensLogsAndStops(t *testing.T) {
	data := t.TempDir()
	l, err := log.Open(filepath.Join(data, "streams", "orders", "0"), log.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), []log.Record{{Value: []byte("hello")}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve returns as soon as it has opened and reported
	var out bytes.Buffer
	if err := serve(ctx, []string{"--data", data}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 partition logs") || !strings.Contains(out.String(), "offsets [0, 1)") {
		t.Fatalf("serve said:\n%s", out.String())
	}
	if err := run([]string{"bogus"}, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
	if _, err := os.Stat(filepath.Join(data, "streams")); err != nil {
		t.Fatal(err)
	}
}
