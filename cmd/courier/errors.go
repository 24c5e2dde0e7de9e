package main

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/courier-mq/courier/client"
)

// describe turns an error into the one line a person should read: the
// cause that explains it rather than the whole chain of wrapping.
// A server's error prints as the server's message; a server that cannot be reached prints as
// the client says it ("nothing listens at localhost:7070").
func describe(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Message != "" {
		return ce.Message
	}
	return err.Error()
}

// listenError says why a listener could not open, without the syscall
// chain ("listen tcp 127.0.0.1:9092: bind: address already in use").
func listenError(name, addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s listener: %s is already in use (another process listens there)", name, addr)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return fmt.Errorf("%s listener: cannot listen on %s: %v", name, addr, op.Err)
	}
	return fmt.Errorf("%s listener: %w", name, err)
}

// refused reports whether err says the server's address refused the
// connection or could not be dialled at all.
func refused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial"
}
