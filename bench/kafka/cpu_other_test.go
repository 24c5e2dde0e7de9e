//go:build !unix

package kafka

import "time"

// processCPU is not measured here: cpu-ms/MB reads 0.
func processCPU() time.Duration { return 0 }
