package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-mq/courier/server"
	"github.com/spf13/pflag"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if binDir != "" {
			os.RemoveAll(binDir)
		}
		os.Exit(code)
	}))
}

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
	var out, errw bytes.Buffer
	if code := run(ctx, serveArgs("--data", data, "--kafka-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0", "--log-format", "json"), nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	if !strings.Contains(out.String(), "1 streams") || !strings.Contains(out.String(), "orders: 1 partitions, 1 messages") ||
		!strings.Contains(out.String(), "kafka listening on 127.0.0.1:") {
		t.Fatalf("serve said:\n%s", out.String())
	}
	if !strings.Contains(errw.String(), `"msg":"listening"`) {
		t.Fatalf("no JSON log line: %s", errw.String())
	}
	errw.Reset()
	if code := run(ctx, []string{"bogus"}, nil, &out, &errw); code != 1 || !strings.HasPrefix(errw.String(), "courier: unknown command") {
		t.Fatalf("unknown command: exit %d, %q", code, errw.String())
	}
}

func TestCLIServeListenerInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out, errw bytes.Buffer
	code := run(context.Background(), serveArgs("--data", t.TempDir(), "--api-addr", "127.0.0.1:0", "--kafka-addr", ln.Addr().String()), nil, &out, &errw)
	want := "courier: kafka listener: " + ln.Addr().String() + " is already in use"
	if code != 1 || !strings.Contains(errw.String(), "\n"+want) {
		t.Fatalf("exit %d, %q; want %q", code, errw.String(), want)
	}
}

// serveArgs is a serve command line with args, and every listener that
// args do not place turned off.
func serveArgs(args ...string) []string {
	return append(append([]string{"serve"}, args...), listenersOff(args)...)
}

// parseServe parses a serve command line with the given environment.
func parseServe(t *testing.T, args []string, env map[string]string) (serveConfig, error) {
	t.Helper()
	var c serveConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	addServeFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	err := resolveServeConfig(fs, &c, func(k string) string { return env[k] })
	return c, err
}

func TestCLIConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "courier.yaml")
	os.WriteFile(file, []byte("data: /from/file\nkafka-addr: file:1\nlog-level: debug\nkafka-auto-create: true\nack-commit-interval: 25ms\n"+
		"amqp-addr: file:3\nmqtt-addr: off\n"), 0o600)
	env := map[string]string{"COURIER_KAFKA_ADDR": "env:2", "COURIER_LOG_LEVEL": "warn", "COURIER_CONFIG": file, "COURIER_MQTT_ADDR": "env:4"}
	c, err := parseServe(t, []string{"--log-level", "error", "--stomp-addr", "flag:5"}, env)
	if err != nil {
		t.Fatal(err)
	}
	want := serveConfig{Config: file, Data: "/from/file", APIAddr: ":7070", KafkaAddr: "env:2", KafkaAutoCreate: true,
		AMQPAddr: "file:3", MQTTAddr: "env:4", STOMPAddr: "flag:5", MQTTWSAddr: ":8083", STOMPWSAddr: ":15674",
		LogFormat: "text", LogLevel: "error", AckCommitInterval: 25 * time.Millisecond}
	if c != want {
		t.Fatalf("flag > env > file > default:\n got %+v\nwant %+v", c, want)
	}
	c, err = parseServe(t, nil, map[string]string{"COURIER_ACK_COMMIT_INTERVAL": "-1ns"})
	if err != nil || c.Data != "./data" || c.KafkaAddr != ":9092" || c.KafkaAutoCreate || c.AckCommitInterval != -1 ||
		c.AMQPAddr != ":5672" || c.MQTTAddr != ":1883" || c.STOMPAddr != ":61613" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = parseServe(t, []string{"--config", file, "--kafka-auto-create=false"}, map[string]string{"COURIER_DATA": "/env"})
	if err != nil || c.Data != "/env" || c.KafkaAddr != "file:1" || c.KafkaAutoCreate {
		t.Fatalf("--config: %+v %v", c, err)
	}
}

func TestCLIConfigErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "courier.yaml")
	os.WriteFile(file, []byte("data: x\namqp-port: 5672\n"), 0o600)
	if _, err := parseServe(t, []string{"--config", file}, nil); err == nil || !strings.Contains(err.Error(), "amqp-port") {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := parseServe(t, nil, map[string]string{"COURIER_KAFKA_AUTO_CREATE": "maybe"}); err == nil ||
		!strings.Contains(err.Error(), "COURIER_KAFKA_AUTO_CREATE") {
		t.Fatalf("bad env value: %v", err)
	}
	if _, err := parseServe(t, []string{"--config", file + ".missing"}, nil); err == nil {
		t.Fatal("missing config file accepted")
	}
	if _, err := newLogger("xml", "info", nil); err == nil {
		t.Fatal("log format xml accepted")
	}
	if _, err := newLogger("text", "loud", nil); err == nil {
		t.Fatal("log level loud accepted")
	}
}

func TestCLIReadUsers(t *testing.T) {
	path := t.TempDir() + "/users"
	os.WriteFile(path, []byte("# users\nalice:s3cret\n\nbob:pa:ss\n"), 0o600)
	u, err := readUsers("--users-file", path)
	if err != nil || len(u) != 2 || u["alice"] != "s3cret" || u["bob"] != "pa:ss" {
		t.Fatalf("%v %v", u, err)
	}
	os.WriteFile(path, []byte("nocolon\n"), 0o600)
	if _, err := readUsers("--users-file", path); err == nil || !strings.Contains(err.Error(), "--users-file: "+path+" line 1") {
		t.Fatalf("bad line: %v", err)
	}
	os.WriteFile(path, []byte("# nobody yet\n\n"), 0o600)
	if _, err := readUsers("--users-file", path); err == nil || !strings.Contains(err.Error(), "no user:password line") {
		t.Fatalf("no users: %v", err)
	}
	if _, err := readUsers("--kafka-users-file", path+".missing"); err == nil || !strings.HasPrefix(err.Error(), "--kafka-users-file: ") {
		t.Fatalf("missing file: %v", err)
	}
	if u, err := readUsers("--users-file", ""); u != nil || err != nil {
		t.Fatalf("no file: %v %v", u, err)
	}
}
