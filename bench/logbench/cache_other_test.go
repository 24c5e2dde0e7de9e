//go:build !(linux && (amd64 || arm64))

package logbench

import "errors"

// dropCache is not implemented here: cold-cache benchmarks are skipped.
const canDropCache = false

func dropCache(string) error { return errors.ErrUnsupported }
