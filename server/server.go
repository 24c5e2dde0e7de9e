// Package server embeds a Courier server in a Go program. It is the public
// face of the broker core: New, Start, Shutdown, and the broker's Go API
// (streams, publish, subscribe, groups, dead letters, request/reply),
// which the native API, the protocol front-ends and tests use.
//
//	srv, err := server.New(server.Options{DataDir: "./data"})
//	if err != nil { ... }
//	if err := srv.Start(); err != nil { ... }
//	defer srv.Shutdown(context.Background())
//	srv.CreateStream(server.StreamConfig{Name: "orders", Subjects: []string{"orders.>"}})
//	ack, err := srv.Publish(ctx, &server.Message{Subject: "orders.eu.created", Payload: body}, server.Expect{})
//
// Data lives in DataDir: the partition logs under streams/, the metadata
// store (configurations, group cursors) under meta/.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/courier-mq/courier/internal/broker"
	"github.com/courier-mq/courier/internal/meta"
)

// Options configure a Server.
type Options struct {
	// DataDir holds everything the server stores; default "./data".
	DataDir string
	// AckCommitInterval bounds how long group acks wait before they are
	// durable: after a crash, messages acked within this window are
	// delivered again. Default 10ms; negative commits every ack at once.
	// An ack made while an earlier message of its partition is still out
	// is held five intervals more (written only if still needed), so its
	// window is up to eleven intervals.
	AckCommitInterval time.Duration
	Logger            *slog.Logger
}

// Server is an embedded Courier server. The broker's methods (Publish,
// Subscribe, CreateStream, CreateGroup, Join, Request, Redrive, ...) are
// available on it once Start has returned.
type Server struct {
	*broker.Broker
	opts Options

	mu      sync.Mutex
	meta    *meta.Store
	started bool
	stopped bool
}

// New checks the options; nothing is opened until Start.
func New(o Options) (*Server, error) {
	if o.DataDir == "" {
		o.DataDir = "./data"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{opts: o}, nil
}

// Start opens the data folder, recovers every stream and group, and makes
// the broker API available.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("server: already started")
	}
	if err := os.MkdirAll(s.opts.DataDir, 0o755); err != nil {
		return fmt.Errorf("server: data folder: %w", err)
	}
	m, err := meta.Open(filepath.Join(s.opts.DataDir, "meta"), meta.Options{
		CommitInterval: s.opts.AckCommitInterval, Logger: s.opts.Logger})
	if err != nil {
		return fmt.Errorf("server: metadata store: %w", err)
	}
	b, err := broker.Open(broker.Options{Dir: s.opts.DataDir, Meta: m, Logger: s.opts.Logger,
		AckHold: ackHold(s.opts.AckCommitInterval)})
	if err != nil {
		m.Close()
		return fmt.Errorf("server: %w", err)
	}
	s.meta, s.Broker, s.started = m, b, true
	s.opts.Logger.Info("courier started", "data", s.opts.DataDir)
	return nil
}

// Shutdown stops subscriptions and groups (unsettled messages stay
// unsettled and are delivered again after a restart), flushes group state
// and closes the logs and the metadata store. ctx bounds the wait.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.stopped {
		return nil
	}
	s.stopped = true
	done := make(chan error, 1)
	go func() { done <- errors.Join(s.Broker.Close(), s.meta.Close()) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("server: shutdown: %w", ctx.Err())
	}
}

// DataDir returns where the server stores its data.
func (s *Server) DataDir() string { return s.opts.DataDir }

// ackHold is the broker's hold of acks above a partition's floor: five
// commit intervals (none when every ack is committed at once).
func ackHold(commit time.Duration) time.Duration {
	switch {
	case commit < 0:
		return -1
	case commit == 0:
		commit = meta.DefaultCommitInterval
	}
	return 5 * commit
}
