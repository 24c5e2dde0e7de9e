// Command courier runs the Courier server and, later, its command-line
// client.
//
// `courier serve` runs the embedded server (the broker core on its data
// folder: streams, groups, recovery) with the Kafka listener (default
// :9092, --kafka-addr), reports what it holds, and waits for SIGINT or
// SIGTERM to shut down cleanly. The native API and the other protocol
// front-ends come next.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/courier-mq/courier/internal/proto/kafka"
	"github.com/courier-mq/courier/server"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "courier:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(out, "usage: courier serve [--data DIR]")
		return nil
	}
	switch args[0] {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serve(ctx, args[1:], out)
	}
	return fmt.Errorf("unknown command %q (try: courier serve)", args[0])
}

func serve(ctx context.Context, args []string, out io.Writer) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	data := fl.String("data", envOr("COURIER_DATA", "./data"), "data folder")
	kafkaAddr := fl.String("kafka-addr", envOr("COURIER_KAFKA_ADDR", ":9092"), "Kafka listener host:port (:0 for any port, off to disable)")
	kafkaAdv := fl.String("kafka-advertised-addr", envOr("COURIER_KAFKA_ADVERTISED_ADDR", ""), "host:port given to Kafka clients (default: the address they connected to)")
	kafkaAuto := fl.Bool("kafka-auto-create", envOr("COURIER_KAFKA_AUTO_CREATE", "") == "true", "create a topic (one partition) when a Kafka client asks for an unknown one")
	kafkaUsers := fl.String("kafka-users-file", envOr("COURIER_KAFKA_USERS_FILE", ""), "file of user:password lines; Kafka clients must then authenticate (SASL PLAIN)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	srv, err := server.New(server.Options{DataDir: *data})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	report(srv, out)
	users, err := readUsers(*kafkaUsers)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	stop, err := startKafka(srv, kafka.Options{Addr: *kafkaAddr, AdvertisedAddr: *kafkaAdv, Users: users, AutoCreateTopics: *kafkaAuto}, out)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	fmt.Fprintln(out, "courier: running; Ctrl-C to stop")
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stop(shut)
	return srv.Shutdown(shut)
}

// startKafka starts the Kafka listener unless addr is "off", and returns
// how to stop it.
func startKafka(srv *server.Server, o kafka.Options, out io.Writer) (func(context.Context), error) {
	if o.Addr == "off" {
		fmt.Fprintln(out, "courier: kafka listener off")
		return func(context.Context) {}, nil
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("kafka listener: %w", err)
	}
	k := kafka.New(srv, o)
	go k.Serve(ln)
	fmt.Fprintf(out, "courier: kafka listening on %s\n", ln.Addr())
	return func(ctx context.Context) { k.Shutdown(ctx) }, nil
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

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// readUsers reads user:password lines (blank lines and # comments
// skipped); no file means no authentication.
func readUsers(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kafka users: %w", err)
	}
	users := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, p, ok := strings.Cut(line, ":")
		if !ok || u == "" {
			return nil, fmt.Errorf("kafka users: %s line %d: want user:password", path, i+1)
		}
		users[u] = p
	}
	return users, nil
}
