package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/go-stomp/stomp/v3"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/courier-mq/courier/client"
)

// login is one attempt's credentials; an empty user sends none.
type login struct{ name, user, password string }

var (
	noLogin    = login{"no login", "", ""}
	wrongLogin = login{"wrong password", "alice", "s3cre"}
	rightLogin = login{"right login", "alice", "s3cret"}
)

// writeUsers writes a users file of alice:s3cret and bob:pa:ss.
func writeUsers(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte("# who may log in\nalice:s3cret\nbob:pa:ss\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCLIBinaryUsersFileEveryProtocol runs `courier serve --users-file`
// with every listener, and logs in to each with its own ecosystem's
// client: no login and a wrong password are refused, the right login is
// accepted and can publish.
func TestCLIBinaryUsersFileEveryProtocol(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "data"), "--users-file", writeUsers(t),
		"--api-addr", "127.0.0.1:0", "--kafka-addr", "127.0.0.1:0", "--amqp-addr", "127.0.0.1:0",
		"--mqtt-addr", "127.0.0.1:0", "--stomp-addr", "127.0.0.1:0", "--mqtt-ws-addr", "127.0.0.1:0",
		"--stomp-ws-addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Each peer tries a login; says is what its refusal of no login and
	// of a wrong password says.
	peers := []struct {
		name string
		try  func(login) error
		says [2]string
	}{
		{"native", func(l login) error { return nativeLogin(ctx, s.addr["api"], l) },
			[2]string{"missing credentials", "unknown user or wrong password"}},
		{"kafka", func(l login) error { return kafkaLogin(ctx, s.addr["kafka"], l) },
			[2]string{"SASL is required", "SASL_AUTHENTICATION_FAILED"}},
		// amqp091-go logs in as guest:guest when the URL has no user.
		{"amqp", func(l login) error { return amqpLogin(s.addr["amqp"], l) }, [2]string{"ACCESS_REFUSED", "ACCESS_REFUSED"}},
		{"mqtt", func(l login) error { return mqttLogin("tcp://"+s.addr["mqtt"], l) },
			[2]string{"bad user name or password", "bad user name or password"}},
		{"mqtt-ws", func(l login) error { return mqttLogin("ws://"+s.addr["mqtt-ws"]+"/mqtt", l) },
			[2]string{"bad user name or password", "bad user name or password"}},
		{"stomp", func(l login) error { return stompLogin(stompTCP(t, s.addr["stomp"]), l) },
			[2]string{"access refused", "access refused"}},
		{"stomp-ws", func(l login) error { return stompLogin(stompWS(t, s.addr["stomp-ws"]), l) },
			[2]string{"access refused", "access refused"}},
	}
	for _, p := range peers {
		for i, l := range []login{noLogin, wrongLogin} {
			if err := p.try(l); err == nil || !strings.Contains(err.Error(), p.says[i]) {
				t.Errorf("%s, %s: %v, want a refusal saying %q", p.name, l.name, err, p.says[i])
			}
		}
		if err := p.try(rightLogin); err != nil {
			t.Errorf("%s: %s refused: %v", p.name, rightLogin.name, err)
		}
	}
}

// nativeLogin connects the Go client and publishes (the stream is
// created on the first call).
func nativeLogin(ctx context.Context, addr string, l login) error {
	var opts []client.Option
	if l.user != "" {
		opts = append(opts, client.WithCredentials(l.user, l.password))
	}
	c, err := client.Connect(ctx, addr, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.CreateStream(ctx, client.StreamConfig{Name: "native", Subjects: []string{"native.>"}}); err != nil {
		return err
	}
	_, err = c.Publish(ctx, &client.Message{Subject: "native.x", Payload: []byte("hi")})
	return err
}

// kafkaLogin asks for metadata with franz-go, without retries: with no
// login the server closes the connection (which franz-go explains as SASL
// being required), with a wrong one it answers SASL_AUTHENTICATION_FAILED.
func kafkaLogin(ctx context.Context, addr string, l login) error {
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.RequestRetries(0)}
	if l.user != "" {
		opts = append(opts, kgo.SASL(plain.Auth{User: l.user, Pass: l.password}.AsMechanism()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	req := kmsg.NewPtrMetadataRequest()
	_, err = cl.Request(ctx, req)
	return err
}

// amqpLogin dials (no login means amqp091-go's default guest:guest) and
// declares a queue.
func amqpLogin(addr string, l login) error {
	u := url.URL{Scheme: "amqp", Host: addr, Path: "/"}
	if l.user != "" {
		u.User = url.UserPassword(l.user, l.password)
	}
	conn, err := amqp.Dial(u.String())
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	_, err = ch.QueueDeclare("logged-in", true, false, false, false, nil)
	return err
}

// mqttLogin connects with paho and publishes at QoS 1.
func mqttLogin(broker string, l login) error {
	o := paho.NewClientOptions().AddBroker(broker).SetClientID("login-" + l.user + "-" + broker[:2]).
		SetConnectTimeout(10 * time.Second).SetAutoReconnect(false).SetProtocolVersion(4)
	if l.user != "" {
		o.SetUsername(l.user).SetPassword(l.password)
	}
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("mqtt connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish("logged/in", 1, false, "hi"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("mqtt publish: %v", tok.Error())
	}
	return nil
}

// stompLogin connects over nc and sends with a receipt.
func stompLogin(nc io.ReadWriteCloser, l login) error {
	defer nc.Close()
	var opts []func(*stomp.Conn) error
	if l.user != "" {
		opts = append(opts, stomp.ConnOpt.Login(l.user, l.password))
	}
	conn, err := stomp.Connect(nc, opts...)
	if err != nil {
		return err
	}
	defer conn.Disconnect()
	return conn.Send("/topic/logged.in", "text/plain", []byte("hi"), stomp.SendOpt.Receipt)
}

// TestCLIBinaryClientLogin runs the client commands against a server
// with a users file: a missing or wrong login prints one clear line and
// exits 1; --user and --password, or COURIER_USER and COURIER_PASSWORD,
// log in.
func TestCLIBinaryClientLogin(t *testing.T) {
	s := startServe(t, filepath.Join(t.TempDir(), "data"), "--users-file", writeUsers(t), "--api-addr", "127.0.0.1:0")
	api := s.addr["api"]
	for _, c := range []struct {
		args, env []string
		want      string // stderr; "" means success
	}{
		{nil, nil, "courier: " + api + " requires a login: give --user and --password (or COURIER_USER and COURIER_PASSWORD)\n"},
		{[]string{"--user", "alice", "--password", "nope"}, nil, "courier: " + api + " refused the login of alice: unknown user or wrong password\n"},
		{nil, []string{"COURIER_USER=mallory", "COURIER_PASSWORD=s3cret"}, "courier: " + api + " refused the login of mallory: unknown user or wrong password\n"},
		{[]string{"--user", "bob", "--password", "pa:ss"}, nil, ""},
		{nil, []string{"COURIER_USER=alice", "COURIER_PASSWORD=s3cret"}, ""},
		{[]string{"--password", "s3cret"}, []string{"COURIER_USER=alice", "COURIER_PASSWORD=wrong"}, ""},
	} {
		cmd := exec.Command(courierBinary(t), append([]string{"stream", "ls", "--server", api}, c.args...)...)
		cmd.Env = append(os.Environ(), c.env...)
		var out, errw bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errw
		err := cmd.Run()
		if c.want == "" {
			if err != nil || !strings.HasPrefix(out.String(), "NAME") {
				t.Errorf("%v %v: %v, stdout %q, stderr %q", c.args, c.env, err, out.String(), errw.String())
			}
			continue
		}
		if code := cmd.ProcessState.ExitCode(); code != 1 || errw.String() != c.want {
			t.Errorf("%v %v: exit %d, stderr %q; want 1, %q", c.args, c.env, code, errw.String(), c.want)
		}
	}
}

// TestCLIServeLogins checks which file each listener's logins come from
// and the warning when some listener accepts any client.
func TestCLIServeLogins(t *testing.T) {
	all, kafkaOnly := writeUsers(t), filepath.Join(t.TempDir(), "kafka-users")
	os.WriteFile(kafkaOnly, []byte("producer:k\n"), 0o600)
	for _, c := range []struct {
		name             string
		conf             serveConfig
		allUser, kfkUser string // a user each list has ("" for no list)
		warning          string
	}{
		{"none", serveConfig{}, "", "", "authentication is off: every listener accepts any client"},
		{"users file", serveConfig{UsersFile: all}, "alice", "alice", ""},
		{"kafka file alone", serveConfig{KafkaUsersFile: kafkaOnly}, "", "producer", "authentication is off except for Kafka"},
		{"both: kafka's for Kafka", serveConfig{UsersFile: all, KafkaUsersFile: kafkaOnly}, "alice", "producer", ""},
	} {
		l, err := readLogins(c.conf)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if has(l.all, c.allUser) != (c.allUser != "") || has(l.kafka, c.kfkUser) != (c.kfkUser != "") ||
			(c.allUser == "") != (l.all == nil) || (c.kfkUser == "") != (l.kafka == nil) {
			t.Errorf("%s: all %v, kafka %v", c.name, l.all, l.kafka)
		}
		var log bytes.Buffer
		l.warn(slog.New(slog.NewTextHandler(&log, nil)))
		if got := strings.Count(log.String(), "\n"); c.warning == "" && got != 0 ||
			c.warning != "" && (got != 1 || !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), c.warning)) {
			t.Errorf("%s: logged %q, want %q", c.name, log.String(), c.warning)
		}
	}
	if _, err := readLogins(serveConfig{UsersFile: all + ".missing"}); err == nil || !strings.HasPrefix(err.Error(), "--users-file: ") {
		t.Fatalf("missing users file: %v", err)
	}
}

func has(m map[string]string, user string) bool { _, ok := m[user]; return ok }

// TestCLIServeWarnsAuthOff: serve says once in its log that
// authentication is off, and says nothing of it with a users file
// (given here by COURIER_USERS_FILE).
func TestCLIServeWarnsAuthOff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve returns as soon as it has started and reported
	var out, errw bytes.Buffer
	if code := run(ctx, serveArgs("--data", t.TempDir(), "--api-addr", "127.0.0.1:0"), nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	if n := strings.Count(errw.String(), "authentication is off"); n != 1 {
		t.Fatalf("%d warnings in %q", n, errw.String())
	}
	t.Setenv("COURIER_USERS_FILE", writeUsers(t))
	errw.Reset()
	if code := run(ctx, serveArgs("--data", t.TempDir(), "--api-addr", "127.0.0.1:0"), nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	if strings.Contains(errw.String(), "authentication is off") || !strings.Contains(errw.String(), "listening") {
		t.Fatalf("with COURIER_USERS_FILE: %q", errw.String())
	}
}

// TestCLIUsersFileLayers: users-file is a config key and
// COURIER_USERS_FILE, like every serve flag.
func TestCLIUsersFileLayers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "courier.yaml")
	os.WriteFile(file, []byte("users-file: /from/file\nkafka-users-file: /kafka/from/file\n"), 0o600)
	c, err := parseServe(t, []string{"--config", file}, nil)
	if err != nil || c.UsersFile != "/from/file" || c.KafkaUsersFile != "/kafka/from/file" {
		t.Fatalf("config file: %+v %v", c, err)
	}
	c, err = parseServe(t, []string{"--config", file}, map[string]string{"COURIER_USERS_FILE": "/from/env"})
	if err != nil || c.UsersFile != "/from/env" {
		t.Fatalf("environment: %+v %v", c, err)
	}
}
