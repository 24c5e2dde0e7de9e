// Command gen writes the AMQP 0-9-1 method codec (../methods_gen.go) from
// the RabbitMQ-extended spec, amqp0-9-1.stripped.extended.xml, a copy of
// the file that ships in github.com/rabbitmq/amqp091-go (BSD-2) under
// spec/. Run it through `go generate ./internal/proto/amqp`.
//
// For each method it emits a struct with one field per spec field (bits
// as bool, consecutive bits packed into octets as the spec says), and
// read/write methods over the package's hand-written reader and writer;
// newMethod maps (class, method) ids to a fresh struct. The structs are
// unexported (basicPublish, queueDeclare, ...): they are the codec's, not
// the package's API.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	in := flag.String("spec", "gen/amqp0-9-1.stripped.extended.xml", "spec XML")
	out := flag.String("o", "methods_gen.go", "output file")
	flag.Parse()
	spec, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	src, err := Generate(spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
