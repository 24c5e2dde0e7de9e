package main

import (
	"bytes"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The generated codec in the package is what the generator makes of the
// spec now: run `go generate ./internal/proto/amqp` after changing either.
func TestGenCurrent(t *testing.T) {
	spec, err := os.ReadFile("amqp0-9-1.stripped.extended.xml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../methods_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("methods_gen.go is stale: run go generate ./internal/proto/amqp")
	}
}

// A bad spec is reported, not turned into code.
func TestGenUnknownType(t *testing.T) {
	spec := `<amqp><class name="x" index="1"><method name="y" index="2"><field name="z" type="float"/></method></class></amqp>`
	if _, err := Generate([]byte(spec)); err == nil {
		t.Fatal("a field of unknown type was accepted")
	}
}
