package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/courier-mq/courier/internal/log"
)

// store is the set of partition logs under a data folder: one directory
// per partition, at <data>/streams/<stream>/<partition>.
type store struct {
	root string
	logs map[string]*log.Log
}

func openStore(root string) (*store, error) {
	st := &store{root: root, logs: map[string]*log.Log{}}
	dirs, err := filepath.Glob(filepath.Join(root, "streams", "*", "*"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(root, "streams"), 0o755); err != nil {
		return nil, err
	}
	for _, d := range dirs {
		l, err := log.Open(d, log.Options{})
		if err != nil {
			st.close()
			return nil, fmt.Errorf("open %s: %w", d, err)
		}
		st.logs[d] = l
	}
	return st, nil
}

func (st *store) report(w io.Writer) {
	fmt.Fprintf(w, "courier: data in %s, %d partition logs\n", st.root, len(st.logs))
	for d, l := range st.logs {
		s := l.Stats()
		fmt.Fprintf(w, "  %s: offsets [%d, %d), %d segments, %d bytes\n", d, s.StartOffset, s.HighWatermark, s.Segments, s.Bytes)
	}
}

func (st *store) close() error {
	var errs []error
	for _, l := range st.logs {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}
