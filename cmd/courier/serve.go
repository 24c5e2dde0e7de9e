package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/courier-mq/courier/internal/admin"
	"github.com/courier-mq/courier/internal/api"
	"github.com/courier-mq/courier/internal/proto/amqp"
	"github.com/courier-mq/courier/internal/proto/kafka"
	"github.com/courier-mq/courier/internal/proto/mqtt"
	"github.com/courier-mq/courier/internal/proto/stomp"
	"github.com/courier-mq/courier/server"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// serveConfig is everything `courier serve` is told.
type serveConfig struct {
	Config              string
	Data                string
	APIAddr             string
	KafkaAddr           string
	KafkaAdvertisedAddr string
	KafkaAutoCreate     bool
	KafkaUsersFile      string
	UsersFile           string
	AMQPAddr            string
	MQTTAddr            string
	STOMPAddr           string
	MQTTWSAddr          string
	STOMPWSAddr         string
	LogFormat           string
	LogLevel            string
	AckCommitInterval   time.Duration
}

// listenerNames are the server's listeners in the order they start; each
// is placed by its --NAME-addr flag.
var listenerNames = []string{"api", "kafka", "amqp", "mqtt", "stomp", "mqtt-ws", "stomp-ws"}

// layered lists the flags that the environment and the config file may set.
var layered = []string{"data", "api-addr", "kafka-addr", "kafka-advertised-addr", "kafka-auto-create",
	"kafka-users-file", "users-file", "amqp-addr", "mqtt-addr", "stomp-addr", "mqtt-ws-addr", "stomp-ws-addr", "log-format", "log-level", "ack-commit-interval"}

func newServeCmd() *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Courier server",
		Long: `Run the Courier server: the broker on its data folder and every listener.

Each setting comes from its flag, else from the environment (COURIER_ and the
flag's name: --kafka-addr is COURIER_KAFKA_ADDR), else from the YAML file given
by --config (keys are the flag names), else from its default. A listener
address is host:port, :0 for any free port, or off.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := resolveServeConfig(cmd.Flags(), &c, os.Getenv); err != nil {
				return err
			}
			return serve(cmd.Context(), c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addServeFlags(cmd.Flags(), &c)
	return cmd
}

func addServeFlags(f *pflag.FlagSet, c *serveConfig) {
	f.StringVar(&c.Config, "config", "", "YAML config file (also COURIER_CONFIG)")
	f.StringVar(&c.Data, "data", "./data", "data folder")
	f.StringVar(&c.APIAddr, "api-addr", ":7070", "native API listener (gRPC, Connect, HTTP/JSON): host:port, :0 for any port, or off")
	f.StringVar(&c.KafkaAddr, "kafka-addr", ":9092", "Kafka listener: host:port, :0 for any port, or off")
	f.StringVar(&c.KafkaAdvertisedAddr, "kafka-advertised-addr", "", "host:port given to Kafka clients (default: the address they connected to)")
	f.BoolVar(&c.KafkaAutoCreate, "kafka-auto-create", false, "create a topic (one partition) when a Kafka client asks for an unknown one")
	f.StringVar(&c.UsersFile, "users-file", "", "file of user:password lines; every listener then requires one of these logins (Kafka SASL PLAIN, AMQP, MQTT, STOMP, native API HTTP Basic)")
	f.StringVar(&c.KafkaUsersFile, "kafka-users-file", "", "file of user:password lines for Kafka alone (SASL PLAIN); with --users-file, Kafka uses this one instead")
	f.StringVar(&c.AMQPAddr, "amqp-addr", ":5672", "AMQP 0-9-1 listener: host:port, :0 for any port, or off")
	f.StringVar(&c.MQTTAddr, "mqtt-addr", ":1883", "MQTT 3.1.1 and 5.0 listener: host:port, :0 for any port, or off")
	f.StringVar(&c.STOMPAddr, "stomp-addr", ":61613", "STOMP 1.0-1.2 listener: host:port, :0 for any port, or off")
	f.StringVar(&c.MQTTWSAddr, "mqtt-ws-addr", ":8083", "MQTT over WebSocket listener (any path, subprotocol mqtt): host:port, :0 for any port, or off")
	f.StringVar(&c.STOMPWSAddr, "stomp-ws-addr", ":15674", "STOMP over WebSocket listener (any path, subprotocols v10.stomp to v12.stomp): host:port, :0 for any port, or off")
	f.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.DurationVar(&c.AckCommitInterval, "ack-commit-interval", 10*time.Millisecond,
		"how long group acks wait to be written in one batch (a crash redelivers what was acked within it); negative writes each at once")
}

// resolveServeConfig fills in what the command line left unset from the
// environment and the config file.
func resolveServeConfig(fs *pflag.FlagSet, c *serveConfig, getenv func(string) string) error {
	if !fs.Changed("config") {
		c.Config = getenv("COURIER_CONFIG")
	}
	file, err := readConfigFile(c.Config)
	if err != nil {
		return err
	}
	return applyLayers(fs, layered, file, getenv)
}

// newLogger makes the server's slog logger.
func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// serve runs the server until ctx ends or a listener fails. It prints
// what the data folder holds and where each listener is to out, and logs
// to logw.
func serve(ctx context.Context, c serveConfig, out, logw io.Writer) error {
	log, err := newLogger(c.LogFormat, c.LogLevel, logw)
	if err != nil {
		return err
	}
	users, err := readLogins(c)
	if err != nil {
		return err
	}
	users.warn(log)
	srv, err := server.New(server.Options{DataDir: c.Data, Logger: log, AckCommitInterval: c.AckCommitInterval})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	report(srv, out)
	ls := &listeners{out: out, log: log, failed: make(chan error, len(listenerNames))}
	if err = startListeners(srv, c, users, ls, log); err == nil {
		ls.up()
		fmt.Fprintln(out, "courier: running; Ctrl-C to stop")
		select {
		case <-ctx.Done():
			log.Info("shutting down")
		case err = <-ls.failed:
		}
	}
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ls.stop(shut)
	return errors.Join(err, srv.Shutdown(shut))
}

// frontEnd is one listener of the server; conns counts its open
// connections (nil: counted by another, as a WebSocket listener's are by
// its protocol's).
type frontEnd struct {
	name, addr string
	l          listener
	conns      func() int64
}

// webSocket serves h as a WebSocket listener.
func webSocket(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
}

// startListeners starts every listener in listenerNames' order: the
// native API (with /healthz, /readyz and /metrics on its port, which
// count every listener's connections), then each protocol's.
func startListeners(srv *server.Server, c serveConfig, users logins, ls *listeners, log *slog.Logger) error {
	k := kafka.New(srv, kafka.Options{AdvertisedAddr: c.KafkaAdvertisedAddr, Users: users.kafka,
		AutoCreateTopics: c.KafkaAutoCreate, Logger: log})
	am := amqp.New(srv.Broker, amqp.Options{Logger: log, Users: users.all})
	mq := mqtt.New(srv.Broker, mqtt.Options{Logger: log, Users: users.all})
	st := stomp.New(srv.Broker, stomp.Options{Logger: log, Users: users.all})
	fronts := []frontEnd{{"kafka", c.KafkaAddr, k, k.Conns}, {"amqp", c.AMQPAddr, am, am.Conns},
		{"mqtt", c.MQTTAddr, mq, mq.Conns}, {"stomp", c.STOMPAddr, st, st.Conns},
		{"mqtt-ws", c.MQTTWSAddr, webSocket(mq.WebSocketHandler()), nil},
		{"stomp-ws", c.STOMPWSAddr, webSocket(st.WebSocket()), nil}}
	conns := map[string]func() int64{}
	for _, f := range fronts {
		if f.conns != nil {
			conns[f.name] = f.conns
		}
	}
	routes := admin.Routes(admin.Options{Broker: srv.Broker, Ready: ls.ready, Conns: conns})
	a := api.New(srv.Broker, api.Options{Logger: log, Routes: routes, Users: users.all})
	conns["api"] = a.Conns
	for _, f := range append([]frontEnd{{"api", c.APIAddr, a, a.Conns}}, fronts...) {
		if err := ls.start(f.name, f.addr, f.l); err != nil {
			return err
		}
	}
	return nil
}

func report(srv *server.Server, w io.Writer) {
	streams := srv.Streams()
	fmt.Fprintf(w, "courier: data in %s, %d streams\n", srv.DataDir(), len(streams))
	for _, s := range streams {
		var msgs, bytes int64
		for _, p := range s.Partitions {
			msgs += p.Messages
			bytes += p.Bytes
		}
		fmt.Fprintf(w, "  %s: %d partitions, %d messages, %d bytes, %d groups\n",
			s.Config.Name, len(s.Partitions), msgs, bytes, len(srv.Groups(s.Config.Name)))
	}
}
