package main

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/courier-mq/courier/client"
)

func TestCLIDescribeErrors(t *testing.T) {
	server := fmt.Errorf("create stream: %w", &client.Error{Code: "not_found", Reason: "stream_not_found", Message: "stream not found: nosuch"})
	if got := describe(server); got != "stream not found: nosuch" {
		t.Fatalf("server error: %q", got)
	}
	if got := describe(errors.New("plain")); got != "plain" {
		t.Fatalf("plain error: %q", got)
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	if !refused(fmt.Errorf("connect: %w", dial)) || refused(errors.New("other")) {
		t.Fatal("refused")
	}
	inUse := &net.OpError{Op: "listen", Net: "tcp", Err: &net.AddrError{Err: "x"}}
	if got := listenError("api", ":1", inUse).Error(); got != "api listener: cannot listen on :1: x" {
		t.Fatalf("listen error: %q", got)
	}
	if got := listenError("kafka", ":2", fmt.Errorf("w: %w", syscall.EADDRINUSE)).Error(); got != "kafka listener: :2 is already in use (another process listens there)" {
		t.Fatalf("in use: %q", got)
	}
}
